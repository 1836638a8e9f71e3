/**
 * Model and field names: what a person types ("First Name", "Customers") becomes the identifier
 * the API and SQL use (`first_name`, `customers`), and the typed text stays as the label. No zod
 * here: the web UI imports this file alone (`@infinity/contracts/names`) to show the name it will get.
 *
 * The rule (docs/api.md, "Names"): a name that already is an identifier is kept; text made of
 * letters, digits, spaces and - _ . , ' ’ ( ) & / # + (what people type as a name) is converted:
 * accents are dropped, a lower-to-upper case step ("firstName") becomes `_`, letters are
 * lowercased, every run of other characters becomes one `_`, `_` at either end is dropped, a name
 * starting with a digit gets `n_` in front, and the result is cut to 63 characters.
 */
export const IDENTIFIER_RE = /^[a-z][a-z0-9_]{0,62}$/;
/** Text that reads as a name a person typed; anything else (quotes, semicolons, …) is left to be refused. */
const TYPED_RE = /^[\p{L}\p{M}\p{N} _\-.,'’()&/#+]{1,200}$/u;

export function toIdentifier(text: string): string {
  if (IDENTIFIER_RE.test(text) || !TYPED_RE.test(text)) return text;
  let s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (/^[0-9]/.test(s)) s = `n_${s}`;
  return s.slice(0, 63).replace(/_+$/, '');
}

/** A typed name → `{ name, label }`: the label is the typed text when the name had to change. */
export function nameAndLabel(text: string, label?: string): { name: string; label?: string } {
  const name = toIdentifier(text);
  const typed = text.trim();
  if (label !== undefined) return { name, label };
  return name === text || !typed ? { name } : { name, label: typed.slice(0, 200) };
}
