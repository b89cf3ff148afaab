/**
 * What the console's browser suite runs on: the page built from this tree (Vite, into a temporary folder),
 * Debian's Chromium driven by playwright-core (never a downloaded browser), and screenshots of each view
 * (`UPDATE_SCREENSHOTS=1 npx jest console/test` refreshes the README's, under docs/console/).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

export const REPO_ROOT = resolve(__dirname, '..', '..');
/**
 * Every run writes the screenshots; into docs/console/ (the README's, committed) only when asked with
 * UPDATE_SCREENSHOTS=1, so `npm test` leaves the checkout clean.
 */
export const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS
  ? join(REPO_ROOT, 'docs', 'console')
  : join(REPO_ROOT, 'dist', 'console-screenshots');
/** Debian's package; .ci/run installs it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A laptop screen. */
export const VIEWPORT = { width: 1366, height: 860 };

/** Builds console/src into a fresh folder, so the suite tests this tree's page whatever console/dist holds. */
export async function buildPage(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'console-build-'));
  const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(
    process.execPath,
    [
      vite,
      'build',
      '--config',
      join(REPO_ROOT, 'console', 'vite.config.mjs'),
      '--outDir',
      outDir,
      '--emptyOutDir',
    ],
    { cwd: REPO_ROOT, timeout: 60_000 },
  );
  return outDir;
}

/** One browser for a whole file; `hostRules` maps test host names to 127.0.0.1 (a DNS-rebinding page). */
export function launchBrowser(hostRules: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      ...(hostRules.length ? [`--host-resolver-rules=${hostRules.join(',')}`] : []),
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({
    path: join(SCREENSHOT_DIR, `${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}
