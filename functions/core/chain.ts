import { errorName } from './errors';
import { revokeWithUpstream } from './upstreamDeletion';
import type { AuditActor, AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import type { TokenRecord } from './model';

/**
 * Revokes every token of a chain that is still alive: the successors of `start` (the live token) and the
 * predecessors still within their grace period. Used when a spent client secret shows up again (reuse
 * detection): someone else holds a copy of the credential, so nothing in the chain can be trusted; and when
 * a client revokes its own chain (self-revoke, actor `client`: no reuse entry, its address on each entry).
 * A refresh racing the walk cannot leave a live member: see the `before` state followed below.
 */
export async function revokeChain(
  deps: BrokerDeps,
  start: TokenRecord,
  reason: string,
  sourceIp?: string,
  actor: Extract<AuditActor, 'system:reuse-detection' | 'client'> = 'system:reuse-detection',
): Promise<string[]> {
  // Noted before the walk, so the sweep finishes the chain if this walk is cut short (docs/lifecycle.md).
  await deps.store.queueChainRevocation(start.chainId, deps.clock.now()).catch((error: unknown) =>
    deps.log.error('chain revocation not noted; revoking anyway', {
      chainId: start.chainId,
      cause: errorName(error),
    }),
  );
  const revoked: string[] = [];
  const entries: AuditEntry[] =
    actor === 'client'
      ? []
      : [
          {
            at: deps.clock.now(),
            action: 'token.reuse_detected',
            actor,
            tokenId: start.tokenId,
            installId: start.installId,
            chainId: start.chainId,
            sourceIp,
            reason,
          },
        ];
  const seen = new Set<string>();
  const visit = async (record: TokenRecord | undefined, direction: 'back' | 'forward') => {
    // A chain is finite and acyclic, but a bound keeps a corrupted record from looping forever.
    for (let hops = 0; record && !seen.has(record.tokenId) && hops < 1000; hops++) {
      seen.add(record.tokenId);
      const done = await revokeWithUpstream(deps, record.tokenId, actor, reason, deps.clock.now());
      if (done) {
        revoked.push(record.tokenId);
        entries.push(
          ...(actor === 'client' ? done.entries.map((entry) => ({ ...entry, sourceIp })) : done.entries),
        );
      }
      // The state our revoke replaced: a refresh that completed since `record` was read has set
      // successorId there, and the walk must follow it.
      const current = done?.before ?? record;
      const nextId = direction === 'forward' ? current.successorId : current.parentId;
      record = nextId ? await deps.store.getToken(nextId) : undefined;
    }
  };
  await visit(start, 'forward');
  if (start.parentId) await visit(await deps.store.getToken(start.parentId), 'back');
  await deps.audit.append(entries);
  deps.log[actor === 'client' ? 'info' : 'warn']('token chain revoked', {
    chainId: start.chainId,
    reason,
    revoked,
  });
  return revoked;
}
