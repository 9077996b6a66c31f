/**
 * Debian's Chromium, driven by playwright-core, for tests of pages as a
 * person sees them. Each browser gets a fresh profile (--user-data-dir in a
 * temp dir, removed on close). Where /usr/bin/chromium is missing, a test
 * skips with one line saying how to get it; under CI=true it fails instead,
 * since CI installs it (.ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the browser is there; skips the test (or fails it under CI) when it is not. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${chromiumPath} is missing: CI installs it (apt-get install -y chromium)`);
  t.skip(`${chromiumPath} is missing: apt-get install -y chromium`);
  return false;
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a profile of its own. */
export async function launchChromium(viewport = { width: 1400, height: 1000 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'jobq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: flags, viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
