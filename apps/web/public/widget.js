/**
 * Infinity embeddable widget: a small chat box that calls a published flow.
 *
 *   <script src="https://infinity.example.com/widget.js" data-slug="support-bot" defer></script>
 *
 * Options (attributes of the script tag, or of an <infinity-widget> element placed anywhere):
 *   data-slug / slug           the published flow (required)
 *   data-title / title         heading of the box (default "Ask us")
 *   data-placeholder           placeholder of the message box
 *   data-api-key / api-key     for flows published with API-key access (visible to page visitors:
 *                              use a key with only the flows:run permission, or publish public)
 * Each message is sent as {"message": "...", "history": [{role, content}, ...]} and the reply is
 * the flow's output: its text/answer/reply/message field if it has one, the whole value otherwise.
 */
(() => {
  const script = document.currentScript;
  const base = script && script.src ? new URL(script.src).origin : location.origin;

  const STYLE = `
    :host { all: initial; font: 14px/1.45 system-ui, sans-serif; color: #18181b; }
    .box { display: flex; flex-direction: column; gap: 8px; width: 100%; max-width: 420px; border: 1px solid #d4d4d8; border-radius: 12px; padding: 12px; background: #fff; box-sizing: border-box; }
    h2 { margin: 0; font-size: 15px; }
    .log { display: flex; flex-direction: column; gap: 6px; max-height: 320px; overflow-y: auto; }
    .msg { padding: 6px 10px; border-radius: 10px; white-space: pre-wrap; word-break: break-word; max-width: 85%; }
    .user { align-self: flex-end; background: #4f46e5; color: #fff; }
    .bot { align-self: flex-start; background: #f4f4f5; }
    .err { align-self: flex-start; background: #fee2e2; color: #991b1b; }
    form { display: flex; gap: 6px; }
    textarea { flex: 1; resize: vertical; min-height: 38px; font: inherit; padding: 6px 8px; border: 1px solid #d4d4d8; border-radius: 8px; }
    button { font: inherit; border: 0; border-radius: 8px; padding: 0 14px; background: #4f46e5; color: #fff; cursor: pointer; }
    button:disabled { background: #a5b4fc; cursor: wait; }
  `;

  const replyText = (out) => {
    if (typeof out === 'string') return out;
    if (out && typeof out === 'object') for (const k of ['text', 'answer', 'reply', 'output', 'message']) if (typeof out[k] === 'string') return out[k];
    return JSON.stringify(out, null, 2);
  };

  class InfinityWidget extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: 'open' });
      const title = this.getAttribute('title') || 'Ask us';
      root.innerHTML = `<style>${STYLE}</style><section class="box" aria-label="${title.replace(/"/g, '&quot;')}"><h2></h2><div class="log" role="log" aria-live="polite"></div><form><label style="position:absolute;left:-9999px" for="m">Message</label><textarea id="m" rows="1"></textarea><button type="submit">Send</button></form></section>`;
      root.querySelector('h2').textContent = title;
      const log = root.querySelector('.log');
      const form = root.querySelector('form');
      const input = root.querySelector('textarea');
      const button = root.querySelector('button');
      input.placeholder = this.getAttribute('placeholder') || 'Type a message…';
      const history = [];
      const add = (cls, text) => {
        const div = document.createElement('div');
        div.className = `msg ${cls}`;
        div.textContent = text;
        log.appendChild(div);
        log.scrollTop = log.scrollHeight;
      };
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const message = input.value.trim();
        if (!message) return;
        input.value = '';
        add('user', message);
        button.disabled = true;
        try {
          const headers = { 'content-type': 'application/json' };
          const key = this.getAttribute('api-key');
          if (key) headers['x-api-key'] = key;
          const res = await fetch(`${base}/api/v1/run/${encodeURIComponent(this.getAttribute('slug') || '')}`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ message, history }),
          });
          const body = await res.json().catch(() => ({}));
          if (!res.ok) throw new Error((body.error && body.error.message) || `The service answered ${res.status}.`);
          const text = replyText(body.data !== undefined ? body.data : body);
          history.push({ role: 'user', content: message }, { role: 'assistant', content: text });
          add('bot', text);
        } catch (err) {
          add('err', err instanceof Error ? err.message : 'Something went wrong.');
        } finally {
          button.disabled = false;
          input.focus();
        }
      });
    }
  }

  if (!customElements.get('infinity-widget')) customElements.define('infinity-widget', InfinityWidget);
  if (script && script.dataset.slug) {
    const el = document.createElement('infinity-widget');
    for (const [k, v] of Object.entries({
      slug: script.dataset.slug,
      title: script.dataset.title,
      placeholder: script.dataset.placeholder,
      'api-key': script.dataset.apiKey,
    }))
      if (v) el.setAttribute(k, v);
    script.after(el);
  }
})();
