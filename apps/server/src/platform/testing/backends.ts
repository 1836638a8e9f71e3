/** Which databases the shared suites run against: both by default (the contract), or as INFINITY_TEST_DATABASES says. */
export type Backend = 'pglite' | 'postgres';

export function testBackends(): Backend[] {
  const raw = process.env.INFINITY_TEST_DATABASES ?? 'pglite,postgres';
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of list) if (b !== 'pglite' && b !== 'postgres') throw new Error(`INFINITY_TEST_DATABASES: unknown backend "${b}"`);
  return list as Backend[];
}

/** A superuser connection to the test server's maintenance database. */
export function adminUrl(): string {
  return process.env.INFINITY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

export async function withDatabase<T>(database: string, fn: (url: string) => Promise<T>): Promise<T> {
  return fn(urlFor(database));
}
