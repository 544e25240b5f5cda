/**
 * Debian's Chromium for the browser tests, driven by playwright-core. Installed with apt-get when
 * missing (as root, or through passwordless sudo), so `npm test` works on a fresh machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.BALLAST_CHROMIUM ?? '/usr/bin/chromium';

export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) =>
    execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], { stdio: 'inherit' });
  process.stderr.write('[ballast] installing Debian chromium for the browser tests (apt-get install chromium)…\n');
  try {
    run(['install', '-y', 'chromium']);
  } catch {
    run(['update']);
    run(['install', '-y', 'chromium']);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is still missing at ${CHROMIUM} after apt-get install`);
  return CHROMIUM;
}

/** A headless Chromium (playwright gives it a fresh temporary profile); each context is a separate person (own cookies). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function newPerson(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1366, height: 900 } });
}
