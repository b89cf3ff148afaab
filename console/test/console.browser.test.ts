/**
 * The admin console end to end, as an operator uses it: the real local broker (`npm start` as a child
 * process, dynalite inside, admin credentials and a TOTP seed set), tokens minted through its HTTP API, the
 * console's server signing with the CLI's client, and this tree's page in headless Chromium. Each test
 * checks what the operator would notice, on the page and at the broker (a heartbeat's answer), and writes
 * a screenshot of its view to docs/console/.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createAdminClient, type AdminClient } from '../../cli/src/api/client';
import { currentOtp } from '../../functions/core/otp';
import { ADMIN_BROKER_ENV, ADMIN_CREDENTIALS, TEST_TOTP_SEED } from '../../test/support/adminSigning';
import {
  heartbeatAt,
  mintAt,
  startLocalBroker,
  stopAllLocalBrokers,
  type LocalBroker,
} from '../../test/support/localBroker';
import { loadAssets } from '../server/assets';
import { startConsoleServer, type ConsoleServer } from '../server/consoleServer';
import { buildPage, launchBrowser, screenshot, VIEWPORT } from './browser';

jest.setTimeout(60_000);

interface Minted {
  tokenId: string;
  clientSecret: string;
}

let broker: LocalBroker;
let admin: AdminClient;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
let pageDir: string;
const pageErrors: string[] = [];
const tokens: Record<string, Minted> = {};

const mint = (install: string, app: string, version: string): Promise<Minted> =>
  mintAt(broker.url, `console-${install}`, { name: app, version });
const heartbeat = (token: Minted): Promise<string> => heartbeatAt(broker.url, token);

async function statusAtBroker(token: Minted): Promise<string> {
  const { token: shown } = await admin.request<{ token: { status: string } }>(
    'GET',
    `tokens/${token.tokenId}`,
  );
  return shown.status;
}

/** Form controls of the current view that no label names (for screen readers and click targets). */
function unlabelled(): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
    .map((control) => control.outerHTML)`);
}

/** The page at a view of the console (the hash after the printed URL). */
async function open(hash: string): Promise<void> {
  await page.goto(`${server.url}${hash}`);
}

beforeAll(async () => {
  const built = buildPage();
  broker = await startLocalBroker({ env: ADMIN_BROKER_ENV });
  // Six installs of two apps, three versions; one of them paused before the console opens.
  const seeds: Array<[string, string, string]> = [
    ['h1', 'hello', '1.0.0'],
    ['h2', 'hello', '1.0.0'],
    ['h3', 'hello', '1.2.0'],
    ['h4', 'hello', '1.2.0'],
    ['o1', 'other', '2.0.0'],
    ['o2', 'other', '2.0.0'],
  ];
  for (const [install, app, version] of seeds) tokens[install] = await mint(install, app, version);
  for (const token of Object.values(tokens)) expect(await heartbeat(token)).toBe('active');
  admin = createAdminClient({
    endpoint: new URL(broker.url),
    region: 'us-east-1',
    credentials: async () => ADMIN_CREDENTIALS,
  });
  await admin.request('POST', `tokens/${tokens.o2!.tokenId}/pause`, { body: { reason: 'seeded' } });

  pageDir = await built;
  server = await startConsoleServer({ client: admin, assets: loadAssets(pageDir), log: () => undefined });
  // rebind.test stands for an attacker's name that its DNS points at 127.0.0.1 (DNS rebinding).
  browser = await launchBrowser(['MAP rebind.test 127.0.0.1']);
  page = await browser.newPage({ viewport: VIEWPORT });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stopAllLocalBrokers();
  if (pageDir) rmSync(pageDir, { recursive: true, force: true });
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

it('shows the tokens by status, the activity and the top versions as the broker counts them', async () => {
  await open('#/');
  const count = (status: string) => page.locator(`[data-status="${status}"] .count`);
  await expect(count('active').textContent()).resolves.toBe('5');
  await expect(count('paused').textContent()).resolves.toBe('1');
  const mints = page.locator('table.activity').getByRole('row', { name: /^Mints/ });
  await expect(mints.getByRole('cell').allTextContents()).resolves.toEqual(['6', '6']);
  const versions = page.getByRole('region', { name: 'Top app versions' });
  await expect(versions.getByRole('row').allTextContents()).resolves.toEqual(
    expect.arrayContaining(['hello 1.0.02', 'hello 1.2.02', 'other 2.0.02']),
  );
  await page.locator('.chart canvas').first().waitFor();
  await expect(unlabelled()).resolves.toEqual([]);
  await screenshot(page, 'overview');
});

it('narrows the token list with a filter, and with a version range', async () => {
  await open('#/tokens');
  const rows = page.locator('table.tokens tbody tr');
  await rows.nth(5).waitFor();
  await expect(rows.count()).resolves.toBe(6);

  await page.getByLabel('App', { exact: true }).fill('other');
  await page.getByRole('button', { name: 'Apply filter' }).click();
  await rows.nth(2).waitFor({ state: 'detached' });
  await expect(rows.locator('td:nth-child(3)').allTextContents()).resolves.toEqual([
    'other 2.0.0',
    'other 2.0.0',
  ]);

  await page.getByLabel('App', { exact: true }).fill('hello');
  await page.getByLabel('Version range').fill('<1.2.0');
  await page.getByRole('button', { name: 'Apply filter' }).click();
  // Until the list shows the new filter's page, it still shows tokens of the other app.
  await page
    .locator('table.tokens tbody tr', { hasText: 'other 2.0.0' })
    .first()
    .waitFor({ state: 'detached' });
  await rows.nth(1).waitFor();
  const shown = await rows.locator('td:first-child').allTextContents();
  expect(shown.sort()).toEqual([tokens.h1!.tokenId, tokens.h2!.tokenId].sort());
  expect(page.url()).toContain('#/tokens?app=hello&version=%3C1.2.0');
  await expect(unlabelled()).resolves.toEqual([]);
  await screenshot(page, 'tokens');
});

it('pauses a token from its page, and its heartbeat then answers paused', async () => {
  await open(`#/tokens/${tokens.h1!.tokenId}`);
  await page.getByRole('heading', { name: 'Audit history of its chain' }).waitFor();
  // Its facts as the broker has them; a fact it has no value for (no reason yet) is left out.
  const facts = page.getByRole('region', { name: 'Token', exact: true }).locator('dl.facts');
  expect(await facts.locator('dt').allTextContents()).toContain('App');
  expect(await facts.locator('dd').allTextContents()).toContain('hello 1.0.0');
  expect(await facts.locator('dt').allTextContents()).not.toContain('Reason');
  await page.getByLabel('Reason (recorded in the audit trail)').fill('console test');
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('status').filter({ hasText: 'now paused' }).waitFor();
  await page.getByRole('region', { name: 'Token', exact: true }).locator('.badge.status-paused').waitFor();

  expect(await heartbeat(tokens.h1!)).toBe('paused');
  expect(await heartbeat(tokens.h2!)).toBe('active');
  await page.getByRole('cell', { name: 'token.paused' }).waitFor();
  await expect(unlabelled()).resolves.toEqual([]);
  await screenshot(page, 'token');
});

it('asks for the one-time code before a bulk revoke, shows a wrong code refused as the API words it, and revokes with a valid one', async () => {
  await open('#/tokens?app=hello&version=1.2.0');
  await page.getByLabel('Action', { exact: true }).selectOption('revoke');
  await page.getByLabel('Reason (recorded in the audit trail)').fill('leaked build');
  await page.getByRole('button', { name: 'Count matching tokens (dry run)' }).click();
  await page.getByText('2 tokens match. Nothing has changed yet (dry run).').waitFor();
  expect(await statusAtBroker(tokens.h3!)).toBe('active');

  await page.getByRole('button', { name: 'Revoke 2 tokens' }).click();
  const dialog = page.getByRole('dialog', { name: 'One-time code' });
  await dialog.waitFor();
  await screenshot(page, 'bulk-otp');

  // A code of a step long past: wrong. The dialog stays, with the broker's words.
  const refused = page.waitForResponse(
    (reply) => reply.url().endsWith('/api/bulk') && reply.status() === 401,
  );
  await dialog.getByLabel('Code').fill(currentOtp(TEST_TOTP_SEED, Date.now() - 3_600_000));
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  const refusal = (await (await refused).json()) as { error: { code: string; message: string } };
  expect(refusal.error.code).toBe('otp_invalid');
  await expect(dialog.getByRole('alert').textContent()).resolves.toBe(refusal.error.message);
  expect(await statusAtBroker(tokens.h3!)).toBe('active');

  // The keyboard alone: focus is in the code field, Enter confirms.
  await expect(page.evaluate('document.activeElement.id')).resolves.toBe('otp-code');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(currentOtp(TEST_TOTP_SEED, Date.now()));
  await page.keyboard.press('Enter');
  await page.getByText('Done: 2 of 2 processed, 2 revoked').waitFor();
  await expect(dialog.isVisible()).resolves.toBe(false);

  expect(await heartbeat(tokens.h3!)).toBe('revoked');
  expect(await heartbeat(tokens.h4!)).toBe('revoked');
  expect(await heartbeat(tokens.h2!)).toBe('active');
  await screenshot(page, 'bulk-done');
});

it('shows the anomaly actions and the quotas, allowlist and client settings', async () => {
  await open('#/anomalies');
  await page.getByText('No anomaly rule has acted.').waitFor();
  await screenshot(page, 'anomalies');

  const { defaults } = await admin.request<{ defaults: Record<string, number> }>('GET', 'quotas');
  await open('#/config');
  for (const quota of Object.keys(defaults)) await page.getByLabel(quota, { exact: true }).waitFor();
  await page.getByLabel('Networks allowed to mint (CIDRs, one a line)').waitFor();
  await page.getByRole('region', { name: 'Remote client settings' }).waitFor();
  await expect(unlabelled()).resolves.toEqual([]);
  await screenshot(page, 'config');
});

it('changes a quota with the one-time code asked in the page', async () => {
  await open('#/config');
  await page.getByLabel('mintsPerDay', { exact: true }).fill('500');
  await page.getByRole('button', { name: 'Save quotas…' }).click();
  const dialog = page.getByRole('dialog', { name: 'One-time code' });
  await dialog.waitFor();
  expect((await admin.request<{ overrides: Record<string, number> }>('GET', 'quotas')).overrides).toEqual({});
  // The bulk revoke used this step's code; the next step's is accepted too (±1 step) and not used yet.
  await dialog.getByLabel('Code').fill(currentOtp(TEST_TOTP_SEED, Date.now() + 30_000));
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Saved: change quotas.' }).waitFor();
  const quotas = await admin.request<{
    overrides: Record<string, number>;
    effective: Record<string, number>;
  }>('GET', 'quotas');
  expect(quotas.overrides).toEqual({ mintsPerDay: 500 });
  expect(quotas.effective.mintsPerDay).toBe(500);
  // The table re-renders from the broker's reply: wait for it (a busy machine may take a moment).
  const row = page.getByRole('row', { name: /^mintsPerDay/ });
  await row.getByRole('cell').last().filter({ hasText: /^500$/ }).waitFor({ timeout: 10_000 });
});

describe('pages of other sites', () => {
  let attacker: Server;
  let attackerUrl: string;
  beforeAll(async () => {
    attacker = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>elsewhere</title><p>another site</p>');
    });
    attacker.listen(0, '127.0.0.1');
    await new Promise((done) => attacker.once('listening', done));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((done) => attacker.close(done)));

  it('cannot drive the proxy from another origin, even with a request that needs no preflight', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(attackerUrl);
      const target = `${server.url.replace(/\?.*$/, '')}api/tokens/${tokens.o1!.tokenId}/revoke`;
      const attempts = await other.evaluate(async (url) => {
        // A "simple" request: the browser sends it without asking, but cannot read the answer.
        await fetch(url, { method: 'POST', mode: 'no-cors', body: '{"reason":"x"}' });
        // With the console's headers it needs a preflight, which the console never allows.
        const withHeaders = await fetch(url, {
          method: 'POST',
          headers: { 'x-console-token': 'guess', 'content-type': 'application/json' },
          body: '{"reason":"x"}',
        }).then(
          (reply) => `answered ${reply.status}`,
          (error: Error) => `refused: ${error.name}`,
        );
        return { withHeaders };
      }, target);
      expect(attempts.withHeaders).toBe('refused: TypeError');
    } finally {
      await other.close();
    }
    expect(await statusAtBroker(tokens.o1!)).toBe('active');
    expect(await heartbeat(tokens.o1!)).toBe('active');

    const direct = await fetch(`${server.url.replace(/\?.*$/, '')}api/stats`, {
      headers: {
        origin: 'http://evil.example',
        'x-console-token': new URL(server.url).searchParams.get('key')!,
      },
    });
    expect(direct.status).toBe(403);
    expect(await direct.json()).toMatchObject({ error: { code: 'origin_refused' } });
  });

  it('answers a DNS-rebinding page nothing: its requests name another host', async () => {
    const rebound = await browser.newPage();
    try {
      const url = new URL(server.url);
      url.hostname = 'rebind.test';
      const reply = await rebound.goto(url.toString());
      expect(reply?.status()).toBe(403);
      await expect(rebound.content()).resolves.not.toContain(url.searchParams.get('key')!);
      const apiStatus = await rebound.evaluate(async () => (await fetch('/api/stats')).status);
      expect(apiStatus).toBe(403);
    } finally {
      await rebound.close();
    }
  });
});
