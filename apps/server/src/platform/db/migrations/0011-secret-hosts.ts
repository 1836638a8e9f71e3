import { type Kysely, sql } from 'kysely';

/**
 * Secrets gain the hosts they may be sent to (`allowed_hosts`), and webhook triggers a memory of
 * the signatures they accepted (`webhook_replays`), so a replayed request is refused.
 *
 * Existing provider secrets get their provider's API hosts and the host of their base URL: what
 * they were already used for. Existing generic secrets get none — usable nowhere until an admin
 * names their hosts (a webhook signing secret needs none: it is never sent). The provider hosts
 * are spelled out here, as they were when this shipped: a migration must not change when the
 * code's defaults do (vault.hosts.ts).
 */
const PROVIDER_HOSTS: Record<string, string[]> = {
  openai: ['api.openai.com'],
  anthropic: ['api.anthropic.com'],
  google: ['generativelanguage.googleapis.com'],
  stripe: ['api.stripe.com'],
  github: ['api.github.com'],
  slack: ['slack.com', 'hooks.slack.com'],
};

function hostOf(url: string | null): string | undefined {
  if (!url) return undefined;
  try {
    const h = new URL(url).hostname.toLowerCase();
    return h.startsWith('[') ? h.slice(1, -1) : h;
  } catch {
    return undefined;
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table secrets add column allowed_hosts jsonb not null default '[]';

    -- A signature a webhook accepted, by the secret that verified it, until its timestamp is too
    -- old to pass anyway. Shared by every process (a replay to another process is refused too).
    create table webhook_replays (
      secret_id uuid not null,
      key text not null,
      expires_at timestamptz not null,
      primary key (secret_id, key)
    );
    create index webhook_replays_expires_idx on webhook_replays (expires_at);
  `.execute(db);
  const rows = await sql<{
    id: string;
    provider: string;
    base_url: string | null;
  }>`select id, provider, base_url from secrets where provider <> 'generic'`.execute(db);
  for (const r of rows.rows) {
    const own = hostOf(r.base_url);
    const hosts = [...new Set([...(PROVIDER_HOSTS[r.provider] ?? []), ...(own ? [own] : [])])];
    if (hosts.length) await sql`update secrets set allowed_hosts = ${JSON.stringify(hosts)}::jsonb where id = ${r.id}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists webhook_replays; alter table secrets drop column if exists allowed_hosts;`.execute(db);
}
