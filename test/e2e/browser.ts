import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.resolve(import.meta.dirname, '../../.test-data/screenshots');

/** A fresh headless chromium profile (its own cookies), with the flags this machine needs. */
export const browser = (viewport: { width: number; height: number }) =>
  chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'infinity-chromium-')), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });

/** Creates an account through the sign-up page and waits for the signed-in app. */
export async function signUp(page: Page, url: string, who: { name: string; email: string; password: string }) {
  await page.goto(url);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Data' }).waitFor();
}
