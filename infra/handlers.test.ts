import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../functions/http/routes';
import { DIST_DIR, lambdaNames } from '../scripts/build';
import { BUNDLE_DIR, HANDLERS, SCHEDULES, bundlePath, handlerNamed } from './handlers';

describe('HANDLERS', () => {
  it('deploys exactly the entry points npm run build bundles', () => {
    expect(HANDLERS.map((handler) => handler.name).sort()).toEqual(lambdaNames());
    for (const handler of HANDLERS) {
      expect(existsSync(join(__dirname, '..', 'functions', 'lambda', `${handler.name}.ts`))).toBe(true);
    }
  });

  it('reads the bundles where the build writes them', () => {
    expect(BUNDLE_DIR).toBe(DIST_DIR);
    expect(bundlePath('mint')).toBe(join(DIST_DIR, 'mint', 'index.mjs'));
  });

  it('serves every route with exactly one handler', () => {
    for (const route of ROUTES) {
      expect(HANDLERS.filter((handler) => handler.routes.includes(route.name))).toHaveLength(1);
    }
  });

  it('gives every handler a short, unique name and at least one table action', () => {
    expect(new Set(HANDLERS.map((handler) => handler.name)).size).toBe(HANDLERS.length);
    for (const handler of HANDLERS) {
      expect(handler.name).toMatch(/^[a-z][a-z0-9-]{0,22}$/);
      expect(handler.tokens.actions.length).toBeGreaterThan(0);
      expect(new Set(handler.tokens.actions).size).toBe(handler.tokens.actions.length);
    }
  });

  it("keeps API handlers within API Gateway's 29 s", () => {
    for (const handler of HANDLERS.filter((h) => h.routes.length > 0)) {
      expect(handler.timeoutSeconds ?? 29).toBeLessThanOrEqual(29);
    }
  });

  it('grants no handler of the client routes an index: none of them queries one', () => {
    for (const handler of HANDLERS.filter((h) => h.routes.length > 0 && !h.routes.includes('admin')))
      expect(handler.tokens.indexes ?? []).toEqual([]);
  });

  it('grants Query exactly to the handlers that name an index, and the indexes the jobs read', () => {
    for (const handler of HANDLERS) {
      expect(handler.tokens.actions.includes('dynamodb:Query')).toBe(
        (handler.tokens.indexes ?? []).length > 0,
      );
    }
    expect(handlerNamed('rotate').tokens.indexes).toEqual(['byRotateAt']);
    expect([...(handlerNamed('sweep').tokens.indexes ?? [])].sort()).toEqual([
      'byChain',
      'byDeleteAt',
      'byExpireAt',
      'byInstall', // the anomaly rules pause or revoke an install's tokens
      'byRelayAt', // the relay-volume rule reads the tokens that relayed lately
      'bySeenAt',
      'byUpstreamId',
    ]);
    expect(handlerNamed('sweep').audit?.indexes).toEqual(['byTime']);
  });

  it('lets only the handlers that call Logfire read the upstream secret: rotation is lazy (but for the relay pool), the sweep deletes', () => {
    expect(
      HANDLERS.filter((h) => h.readsUpstreamSecret)
        .map((h) => h.name)
        .sort(),
    ).toEqual(['admin', 'mint', 'refresh', 'relay', 'rotate', 'sweep']);
  });

  it('lets the admin function alone read the admin TOTP seed', () => {
    expect(HANDLERS.filter((h) => h.readsAdminTotpSeed).map((h) => h.name)).toEqual(['admin']);
  });

  it("gives the scheduled jobs timeouts within Lambda's 900 s", () => {
    for (const handler of HANDLERS.filter((h) => h.routes.length === 0)) {
      expect(handler.timeoutSeconds).toBeGreaterThan(29);
      expect(handler.timeoutSeconds).toBeLessThanOrEqual(900);
    }
  });
});

describe('SCHEDULES', () => {
  it('targets handlers that exist and serve no route', () => {
    for (const schedule of SCHEDULES) expect(handlerNamed(schedule.handler).routes).toEqual([]);
  });

  it('runs rotation on the rotate function and the sweep on the sweep function, each at its own setting', () => {
    expect(SCHEDULES.map((s) => [s.name, s.handler, s.expression])).toEqual([
      ['rotation', 'rotate', 'rotationSchedule'],
      ['sweep', 'sweep', 'sweepSchedule'],
    ]);
  });

  it('schedules every handler without a route, so none is deployed and never run', () => {
    const jobs = HANDLERS.filter((h) => h.routes.length === 0).map((h) => h.name);
    expect(SCHEDULES.map((s) => s.handler).sort()).toEqual(jobs.sort());
  });

  it('names an unknown handler loudly', () => {
    expect(() => handlerNamed('rotate', [])).toThrow('no handler named "rotate"');
  });
});
