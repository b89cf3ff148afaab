import type { TokenStatus } from '../../core/model';
import { tokenRecord } from '../../../test/support/dynalite';
import { ATTR } from './tables';
import { fromTokenItem, toTokenItem } from './tokenItems';

const OPTIONS = { shards: 4, retentionMs: 0 };

describe('Function: toTokenItem', () => {
  it.each<[TokenStatus, string[]]>([
    ['active', [ATTR.rotateAt, ATTR.seenAt, ATTR.expireAt]],
    ['paused', [ATTR.seenAt, ATTR.expireAt]],
    ['rotate', [ATTR.seenAt, ATTR.expireAt]],
    ['refreshing', [ATTR.expireAt]],
    ['refreshed', [ATTR.expireAt]],
    ['revoked', []],
    ['superseded', []],
    ['expired', []],
  ])('gives a %s token exactly the index attributes %j', (status, expected) => {
    const item = toTokenItem(tokenRecord({ status }), OPTIONS);
    const present = [ATTR.rotateAt, ATTR.seenAt, ATTR.expireAt, ATTR.deleteAt].filter((name) => name in item);
    expect(present).toEqual(expected);
  });

  it('uses the last heartbeat, not the creation time, for the stale index', () => {
    expect(toTokenItem(tokenRecord({ lastHeartbeatAt: 42 }), OPTIONS)[ATTR.seenAt]).toBe(42);
  });

  it('round-trips the record and never stores anything named like a write token', () => {
    const record = tokenRecord({ metadata: { a: 'b' } });
    const item = toTokenItem(record, OPTIONS);
    expect(fromTokenItem(item)).toEqual(record);
    expect(Object.keys(item).filter((name) => /writeToken|clientSecret|^token$/i.test(name))).toEqual([]);
  });
});
