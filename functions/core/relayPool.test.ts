/**
 * The relay's upstream pool against dynalite and the fake Logfire, through the real API-key adapter:
 * sealed at rest, one pool however many relays start at once, rotation and repair.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { UPSTREAM_POOL_KEY } from '../adapters/store/relayItems';
import { countRequests } from '../../test/support/requestCounter';
import { startRelayBroker, type RelayBroker } from '../../test/support/relayBroker';
import { TEST_API_KEY } from '../../test/support/broker';
import { keepBusy } from '../../test/support/busy';
import { runRotation } from './rotation';
import { UpstreamPool } from './relayPool';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('Class: UpstreamPool', () => {
  let broker: RelayBroker;
  beforeEach(async () => {
    broker = await startRelayBroker();
  });
  afterEach(() => broker?.close());

  /** Another relay process: its own pool object on the same table and Logfire. */
  const process = (keyMaterial = TEST_API_KEY) =>
    new UpstreamPool({
      store: broker.store,
      upstream: broker.deps.upstream,
      audit: broker.audit,
      clock: broker.clock,
      log: broker.deps.log,
      keyMaterial: async () => keyMaterial,
      tokenTtlMs: broker.deps.settings.tokenTtlMs,
    });
  const storedItem = async () =>
    (await broker.db.doc.send(new GetCommand({ TableName: broker.db.tableName, Key: UPSTREAM_POOL_KEY })))
      .Item;

  it('keeps its Logfire tokens sealed: neither the table nor the logs hold one', async () => {
    const pool = await process().open();

    const item = JSON.stringify(await storedItem());
    expect(broker.logfire.tokens.map((token) => token.token)).toEqual([pool.current.token]);
    expect(item).not.toContain(pool.current.token);
    expect(item).not.toContain(pool.current.token.slice(-20));
    expect(JSON.stringify(broker.logs)).not.toContain(pool.current.token.slice(-20));
    expect(item).toContain(pool.current.tokenPrefix!);
  });

  it('creates one pool when many relays start at once on a busy machine, deleting the extra tokens', async () => {
    const busy = await keepBusy(20_000);
    let pools;
    try {
      pools = await Promise.all(Array.from({ length: 8 }, () => process().open()));
    } finally {
      await busy.stop();
    }

    expect(new Set(pools.map((pool) => pool.current.token)).size).toBe(1);
    expect(pools.every((pool) => pool.version === 1)).toBe(true);
    expect(broker.logfire.tokens).toHaveLength(1);
    const { entries } = await broker.audit.byTime({ from: 0, to: Date.now() + DAY });
    expect(entries.filter((entry) => entry.action === 'relay.pool_created')).toHaveLength(1);
  }, 60_000);

  it('reads the store once a minute per process, not once per batch', async () => {
    const pool = process();
    await pool.open();
    const requests = countRequests(broker.db.client);

    for (let i = 0; i < 5; i++) await pool.open();
    const cached = requests.total();
    broker.clock.advance(MINUTE);
    await pool.open();

    expect(cached).toBe(0);
    expect(requests.counts).toEqual({ GetItem: 1 });
  });

  it('rotates: a new current, the old one kept as previous, the one before deleted at Logfire', async () => {
    const pool = process();
    const first = await pool.open();
    const second = await pool.rotate(first);

    const third = await pool.rotate(second);

    expect(second.previous!.token).toBe(first.current.token);
    expect(third).toMatchObject({ version: 3, previous: { token: second.current.token } });
    expect(broker.logfire.tokens.map((token) => token.token).sort()).toEqual(
      [second.current.token, third.current.token].sort(),
    );
  });

  it('is rotated by the rotation job once its current token is older than BROKER_ROTATE_AFTER', async () => {
    const first = await broker.deps.relay!.pool.open();
    const rotateAfterMs = broker.deps.settings.rotateAfterMs;

    await runRotation(broker.deps, { now: broker.clock.now() + rotateAfterMs - 1 });
    const notYet = await broker.deps.relay!.pool.open({ fresh: true });
    await runRotation(broker.deps, { now: broker.clock.now() + rotateAfterMs });
    const rotated = await broker.deps.relay!.pool.open({ fresh: true });

    expect(notYet.version).toBe(first.version);
    expect(rotated.version).toBe(first.version + 1);
    expect(rotated.previous!.token).toBe(first.current.token);
  });

  it('replaces a pool sealed under another credential (the credential was changed), deleting its tokens', async () => {
    const old = await process('pylf_v1_us_TheCredentialBeforeTheChange00000').open();

    const pool = await process().open();

    expect(pool.version).toBe(old.version + 1);
    expect(pool.current.token).not.toBe(old.current.token);
    expect(pool.previous).toBeUndefined();
    expect(broker.logfire.tokens.map((token) => token.token)).toEqual([pool.current.token]);
  });

  it('repairs a refused current token once, even when many batches ask at the same time', async () => {
    const pool = process();
    const seen = await pool.open();

    const repaired = await Promise.all(Array.from({ length: 5 }, () => pool.repair(seen)));

    expect(new Set(repaired.map((p) => p.current.token)).size).toBe(1);
    expect(repaired[0]!.version).toBe(seen.version + 1);
    expect(broker.logfire.tokens.map((token) => token.token)).toEqual([repaired[0]!.current.token]);
  });

  it('leaves Logfire alone for a minute after a repair failed', async () => {
    const pool = process();
    const seen = await pool.open();
    broker.logfire.failNext(1, 401);
    const before = broker.logfire.requests.length;

    await expect(pool.repair(seen)).rejects.toMatchObject({ status: 503 });
    await expect(pool.repair(seen)).rejects.toMatchObject({ status: 503, retryAfterSeconds: 60 });
    broker.clock.advance(MINUTE);
    const repaired = await pool.repair(seen);

    // The failed create; a minute on, the create and the deletion of the refused token.
    expect(broker.logfire.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual([
      'POST 401',
      'POST 201',
      'DELETE 204',
    ]);
    expect(repaired.version).toBe(seen.version + 1);
  });
});

describe('Class: UpstreamPool, user-token mode', () => {
  it('is not rotated where Logfire cannot delete the old token', async () => {
    const broker = await startRelayBroker({ mode: 'user-token' });
    try {
      const first = await broker.deps.relay!.pool.open();

      await runRotation(broker.deps, { now: broker.clock.now() + 30 * DAY });

      expect((await broker.deps.relay!.pool.open({ fresh: true })).version).toBe(first.version);
      expect(broker.logfire.issued).toHaveLength(1);
    } finally {
      await broker.close();
    }
  });
});
