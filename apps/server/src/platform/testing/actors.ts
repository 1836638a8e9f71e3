import { expect } from 'vitest';
import type { Harness } from './harness.js';

let counter = 0;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  orgId: string;
  refreshCookie: string;
}

/** Signs up a new user (unique email) and returns their token and personal organization. */
export async function signUp(h: Harness, name = 'Test User'): Promise<TestUser> {
  counter++;
  const email = `user${counter}.${Date.now()}@example.com`;
  const password = `pw-${counter}-long-enough`;
  const res = await h.request({ method: 'POST', url: '/api/v1/auth/signup', body: { name, email, password } });
  expect(res.statusCode, res.body).toBe(201);
  const data = res.json().data;
  const cookie = res.cookies.find((c) => c.name === 'infinity_refresh');
  return { id: data.user.id, email, password, token: data.accessToken, orgId: data.organization.id, refreshCookie: cookie?.value ?? '' };
}

/** Invites `user` into `owner`'s active organization with `role` and accepts it; returns a token acting there. */
export async function addMember(h: Harness, owner: TestUser, user: TestUser, role: string): Promise<string> {
  const inv = await h.request({ method: 'POST', url: '/api/v1/invitations', token: owner.token, body: { email: user.email, role } });
  expect(inv.statusCode, inv.body).toBe(201);
  const acc = await h.request({ method: 'POST', url: `/api/v1/invitations/${inv.json().data.token}/accept`, token: user.token });
  expect(acc.statusCode, acc.body).toBe(200);
  const sw = await h.request({ method: 'POST', url: '/api/v1/auth/switch', token: user.token, body: { organizationId: owner.orgId } });
  expect(sw.statusCode, sw.body).toBe(200);
  return sw.json().data.accessToken as string;
}

export async function createApiKey(h: Harness, token: string, role = 'editor'): Promise<{ id: string; key: string }> {
  const res = await h.request({ method: 'POST', url: '/api/v1/api-keys', token, body: { name: `key-${++counter}`, role } });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().data.id, key: res.json().data.key };
}
