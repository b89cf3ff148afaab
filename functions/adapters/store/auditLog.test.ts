import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../core/audit';
import { startDynalite, type TestDynamo } from '../../../test/support/dynalite';
import { countRequests } from '../../../test/support/requestCounter';
import { DynamoAuditLog } from './auditLog';

const T0 = 1_780_000_000_000;
const MINUTE = 60_000;

let db: TestDynamo;
let audit: DynamoAuditLog;

beforeAll(async () => {
  db = await startDynalite();
  audit = new DynamoAuditLog({ client: db.doc, tableName: db.auditTableName, retentionMs: 86_400_000 });
});
afterAll(() => db.close());

const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
  at: T0,
  action: 'token.minted',
  actor: 'client',
  ...overrides,
});

async function all<T>(read: (cursor?: string) => Promise<{ entries: T[]; cursor?: string }>): Promise<T[]> {
  const found: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    found.push(...page.entries);
    cursor = page.cursor;
  } while (cursor);
  return found;
}

describe('Method: append', () => {
  it('keeps every field and reads them back by token, newest first', async () => {
    await audit.append([
      entry({ tokenId: 'tok_a', installId: 'inst-a', sourceIp: '203.0.113.9', details: { app: 'cli@1' } }),
      entry({
        at: T0 + MINUTE,
        tokenId: 'tok_a',
        action: 'token.revoked',
        actor: 'admin:arn:aws:iam::1:user/x',
        reason: 'leak',
      }),
    ]);
    const { entries } = await audit.byToken('tok_a');
    expect(entries).toEqual([
      {
        at: T0 + MINUTE,
        action: 'token.revoked',
        actor: 'admin:arn:aws:iam::1:user/x',
        tokenId: 'tok_a',
        reason: 'leak',
      },
      {
        at: T0,
        action: 'token.minted',
        actor: 'client',
        tokenId: 'tok_a',
        installId: 'inst-a',
        sourceIp: '203.0.113.9',
        details: { app: 'cli@1' },
      },
    ]);
  });

  it('writes 60 entries in three batches and keeps two entries of the same millisecond apart', async () => {
    const counter = countRequests(db.client);
    await audit.append(Array.from({ length: 60 }, () => entry({ tokenId: 'tok_many' })));
    expect(counter.counts).toEqual({ BatchWriteItem: 3 });
    expect(await all((cursor) => audit.byToken('tok_many', { limit: 25, cursor }))).toHaveLength(60);
  });

  it('sets a TTL of the retention period, in epoch seconds', async () => {
    await audit.append([entry({ tokenId: 'tok_ttl' })]);
    const { Items } = await db.doc.send(new ScanCommand({ TableName: db.auditTableName }));
    const item = Items!.find((i) => i.tokenId === 'tok_ttl')!;
    expect(item.ttl).toBe(Math.ceil((T0 + 86_400_000) / 1000));
  });
});

describe('Method: byToken / byInstall', () => {
  it('limits to a time range', async () => {
    await audit.append([0, 1, 2, 3].map((m) => entry({ at: T0 + m * MINUTE, tokenId: 'tok_range' })));
    const { entries } = await audit.byToken('tok_range', { from: T0 + MINUTE, to: T0 + 2 * MINUTE });
    expect(entries.map((e) => e.at)).toEqual([T0 + 2 * MINUTE, T0 + MINUTE]);
  });

  it('finds an install across its tokens, paginated', async () => {
    await audit.append(
      ['tok_1', 'tok_2', 'tok_3'].map((tokenId, i) => entry({ at: T0 + i, tokenId, installId: 'inst-many' })),
    );
    const pages = await all((cursor) => audit.byInstall('inst-many', { limit: 2, cursor }));
    expect(pages.map((e) => e.tokenId)).toEqual(['tok_3', 'tok_2', 'tok_1']);
  });
});

describe('Method: byTime', () => {
  it('merges the shards newest first and pages through a range without loss or repeats', async () => {
    const base = T0 + 1000 * MINUTE;
    const written = Array.from({ length: 37 }, (_, i) =>
      entry({ at: base + i * 1000, tokenId: `tok_t${i}` }),
    );
    await audit.append(written);
    const read = await all((cursor) => audit.byTime({ from: base, to: base + 36_000, limit: 5, cursor }));
    expect(read.map((e) => e.tokenId)).toEqual(written.map((e) => e.tokenId).reverse());
  });

  it('returns nothing outside the range', async () => {
    const { entries, cursor } = await audit.byTime({ from: 1, to: 2 });
    expect(entries).toEqual([]);
    expect(cursor).toBeUndefined();
  });
});
