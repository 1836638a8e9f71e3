import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key,
      email text not null,
      name text not null,
      password_hash text not null,
      default_org_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_key on users (lower(email));

    create table organizations (
      id uuid primary key,
      name text not null,
      slug text not null unique,
      personal boolean not null default false,
      schema_name text not null unique,
      plan text not null default 'free',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table memberships (
      org_id uuid not null references organizations (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (org_id, user_id)
    );
    create index memberships_user_idx on memberships (user_id);

    create table invitations (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      email text not null,
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      token_hash text not null unique,
      invited_by uuid references users (id) on delete set null,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_by uuid references users (id) on delete set null,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index invitations_org_idx on invitations (org_id);

    create table refresh_tokens (
      id uuid primary key,
      family_id uuid not null,
      user_id uuid not null references users (id) on delete cascade,
      org_id uuid references organizations (id) on delete set null,
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index refresh_tokens_family_idx on refresh_tokens (family_id);

    create table api_keys (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      prefix text not null,
      key_hash text not null unique,
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      created_by uuid references users (id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index api_keys_org_idx on api_keys (org_id);

    create table org_data_keys (
      org_id uuid not null references organizations (id) on delete cascade,
      version integer not null,
      wrapped_key bytea not null,
      master_key_id text not null,
      created_at timestamptz not null default now(),
      primary key (org_id, version)
    );

    create table secrets (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      provider text not null,
      base_url text,
      ciphertext bytea not null,
      data_key_version integer not null,
      hint text not null,
      created_by uuid references users (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, name)
    );

    -- Audit: one hash chain per organization (the nil UUID is the instance's own chain).
    -- No foreign key: entries outlive the organization they describe.
    create table audit_log (
      id uuid primary key,
      org_id uuid not null,
      seq bigint not null,
      at timestamptz not null,
      actor_type text not null,
      actor_id text,
      action text not null,
      target_type text,
      target_id text,
      ip text,
      details jsonb not null default '{}'::jsonb,
      prev_hash text not null,
      hash text not null,
      unique (org_id, seq)
    );
    create index audit_log_org_at_idx on audit_log (org_id, at desc);
    create index audit_log_org_action_idx on audit_log (org_id, action);

    create table audit_heads (
      org_id uuid primary key,
      seq bigint not null,
      hash text not null
    );

    create function infinity_audit_append_only() returns trigger language plpgsql as $fn$
    begin
      raise exception 'audit_log is append-only' using errcode = 'P0001';
    end
    $fn$;
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function infinity_audit_append_only();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists audit_heads, audit_log, secrets, org_data_keys, api_keys, refresh_tokens,
      invitations, memberships, organizations, users cascade;
    drop function if exists infinity_audit_append_only();
  `.execute(db);
}
