/** `GET /v1/admin/audit`: the audit trail by token, by install, or by time, newest first. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AuditEntry } from '../core/audit';
import type { BrokerDeps } from '../core/deps';
import { InvalidRequest } from '../core/errors';
import { limitOf, onlyQuery, queryParam } from './adminRequest';

const WEEK = 7 * 86_400_000;

function time(event: APIGatewayProxyEvent, name: string): number | undefined {
  const text = queryParam(event, name);
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidRequest(`${name}: expected an ISO 8601 time, got "${text}".`);
  return ms;
}

/**
 * One page of entries. `actor` is applied to the page read, so a page may hold fewer than `limit` entries
 * while `nextCursor` is set. Without tokenId or installId the range defaults to the last 7 days.
 * @example await auditQuery(deps, event) // { entries: [...], nextCursor: '…' }
 */
export async function auditQuery(
  deps: BrokerDeps,
  event: APIGatewayProxyEvent,
): Promise<{ entries: AuditEntry[]; nextCursor?: string }> {
  onlyQuery(event, ['tokenId', 'installId', 'actor', 'after', 'before', 'limit', 'cursor']);
  const tokenId = queryParam(event, 'tokenId');
  const installId = queryParam(event, 'installId');
  if (tokenId !== undefined && installId !== undefined) {
    throw new InvalidRequest('tokenId, installId: give one of them, not both.');
  }
  const actor = queryParam(event, 'actor');
  const after = time(event, 'after');
  const before = time(event, 'before');
  if (after !== undefined && before !== undefined && after >= before) {
    throw new InvalidRequest('after must be before before.');
  }
  const query = {
    from: after,
    to: before,
    limit: limitOf(event, 50, 500),
    cursor: queryParam(event, 'cursor'),
  };
  const page =
    tokenId !== undefined
      ? await deps.audit.byToken(tokenId, query)
      : installId !== undefined
        ? await deps.audit.byInstall(installId, query)
        : await deps.audit.byTime({
            ...query,
            from: after ?? (before ?? deps.clock.now()) - WEEK,
            to: before ?? deps.clock.now(),
          });
  const entries = actor === undefined ? page.entries : page.entries.filter((entry) => entry.actor === actor);
  return { entries, ...(page.cursor ? { nextCursor: page.cursor } : {}) };
}
