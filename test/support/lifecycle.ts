/**
 * Helpers for the lifecycle tests (rotation, sweep, admin): drive a client through the real handlers of a
 * test broker and read back what the store, the audit trail and the fake Logfire hold.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { KEY } from '../../functions/adapters/store/tables';
import type { AuditEntry } from '../../functions/core/audit';
import type { IssuedToken } from '../../functions/core/contract';
import type { TokenRecord } from '../../functions/core/model';
import type { TestBroker } from './broker';
import { heartbeatEvent, mintEvent, refreshEvent } from './events';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'test' } as const;

export interface MintOptions {
  installId?: string;
  version?: string;
  sourceIp?: string;
}

export function lifecycleKit(broker: TestBroker) {
  let installs = 0;
  const kit = {
    /** A new client token, minted through the mint handler. */
    mint: async (options: MintOptions = {}): Promise<IssuedToken> => {
      installs += 1;
      const body = {
        installId: options.installId ?? `install-${String(installs).padStart(6, '0')}`,
        app: { name: 'acme-cli', version: options.version ?? '1.0.0' },
      };
      const result = await broker.handlers.mint(mintEvent(body, {}, options.sourceIp));
      if (result.statusCode !== 201) throw new Error(`mint answered ${result.statusCode}: ${result.body}`);
      return JSON.parse(result.body) as IssuedToken;
    },
    /** The heartbeat's status, or the HTTP status when it is not 200. */
    heartbeat: async (token: IssuedToken): Promise<string | number> => {
      const result = await broker.handlers.heartbeat(heartbeatEvent(token.tokenId, token.clientSecret));
      return result.statusCode === 200
        ? (JSON.parse(result.body) as { status: string }).status
        : result.statusCode;
    },
    refresh: async (token: IssuedToken): Promise<{ status: number; token?: IssuedToken }> => {
      const result = await broker.handlers.refresh(refreshEvent(token.tokenId, token.clientSecret));
      return {
        status: result.statusCode,
        token: result.statusCode === 200 ? (JSON.parse(result.body) as IssuedToken) : undefined,
      };
    },
    record: async (tokenId: string): Promise<TokenRecord> => {
      const record = await broker.store.getToken(tokenId);
      if (!record) throw new Error(`no record ${tokenId}`);
      return record;
    },
    /** The item as stored, index attributes included. */
    rawItem: async (tokenId: string): Promise<Record<string, unknown> | undefined> => {
      const reply = await broker.db.doc.send(
        new GetCommand({ TableName: broker.db.tableName, Key: KEY.token(tokenId), ConsistentRead: true }),
      );
      return reply.Item;
    },
    /** Whether Logfire would still accept the record's write token. */
    upstreamLive: (record: Pick<TokenRecord, 'upstreamId'>): boolean =>
      broker.logfire.tokens.some((token) => token.id === record.upstreamId),
    /** A token's audit entries, oldest first. */
    audit: async (tokenId: string): Promise<AuditEntry[]> =>
      (await broker.audit.byToken(tokenId, { limit: 100 })).entries.reverse(),
    actions: async (tokenId: string): Promise<string[]> =>
      (await kit.audit(tokenId)).map((entry) => entry.action),
  };
  return kit;
}
