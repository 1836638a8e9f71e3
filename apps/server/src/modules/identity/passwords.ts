import { type Algorithm, hash, verify } from '@node-rs/argon2';

// OWASP's Argon2id profile (m=19 MiB, t=2, p=1): ~100 ms to hash, ~25 ms to verify here.
// Algorithm is an ambient const enum (not importable as a value): 2 is Argon2id.
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Verified against when the email is unknown, so both answers take the same time. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hash('infinity-timing-equalizer', OPTIONS);
  return dummy;
}
