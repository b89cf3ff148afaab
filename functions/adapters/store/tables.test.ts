import { toCreateTableInput } from './ensureTables';
import { ATTR, INDEX, auditTable, shardOf, tokensTable, type TableDefinition } from './tables';

/** Attributes used as a key somewhere; DynamoDB rejects definitions that declare more or fewer. */
function keyAttributes(definition: TableDefinition): string[] {
  const keys = [definition.hashKey, definition.rangeKey];
  for (const index of definition.globalIndexes) keys.push(index.hashKey, index.rangeKey);
  return [...new Set(keys.filter((key): key is string => key !== undefined))].sort();
}

describe('Table definitions', () => {
  it.each([
    ['tokens', tokensTable('t')],
    ['audit', auditTable('a')],
  ])('declares exactly the key attributes of the %s table and its indexes', (_name, definition) => {
    expect(definition.attributes.map((a) => a.name).sort()).toEqual(keyAttributes(definition));
  });

  it('keeps the TTL attribute out of every key, as DynamoDB TTL wants', () => {
    for (const definition of [tokensTable('t'), auditTable('a')]) {
      expect(definition.ttlAttribute).toBe(ATTR.ttl);
      expect(keyAttributes(definition)).not.toContain(ATTR.ttl);
    }
  });

  it('shards every time-ordered index of the tokens table', () => {
    const timeOrdered = [INDEX.byRotateAt, INDEX.bySeenAt, INDEX.byExpireAt, INDEX.byDeleteAt];
    for (const index of tokensTable('t').globalIndexes.filter((i) => timeOrdered.includes(i.name as never))) {
      expect([ATTR.shard, ATTR.deleteShard]).toContain(index.hashKey);
    }
  });

  it('projects no attribute a heartbeat changes, so a heartbeat rewrites at most one index entry', () => {
    for (const index of tokensTable('t').globalIndexes) {
      const projected = index.projection.type === 'INCLUDE' ? index.projection.nonKeyAttributes : [];
      expect(projected).not.toContain('lastHeartbeatAt');
      expect(index.projection.type).not.toBe('ALL');
    }
  });

  it('becomes an on-demand CreateTable request', () => {
    const input = toCreateTableInput(tokensTable('t'));
    expect(input).toMatchObject({ TableName: 't', BillingMode: 'PAY_PER_REQUEST' });
    expect(input.GlobalSecondaryIndexes).toHaveLength(10);
  });
});

describe('Function: shardOf', () => {
  it('is stable and stays within range', () => {
    expect(shardOf('tok_abc', 4)).toBe(shardOf('tok_abc', 4));
    for (let i = 0; i < 100; i++) expect(shardOf(`tok_${i}`, 3)).toBeLessThan(3);
  });

  it('spreads ids roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`tok_${i.toString(36)}_${i * 7919}`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
