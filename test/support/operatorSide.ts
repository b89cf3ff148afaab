/**
 * The operator's side of a test that runs a `npm start` broker as a child process: the broker's core wired
 * to the same DynamoDB tables, as the admin routes are, so a test can pause, revoke or store rules directly.
 * Its upstream is in user-token fashion (`canRevoke: false`): it deletes nothing, so a pause or revoke only
 * stops the broker vouching for the token. The write token still works at the dev upstream, so a client that
 * kept sending while paused would show up as a batch.
 */
import { readConfig } from '../../functions/config';
import { wireBroker, type WiredBroker } from '../../functions/adapters/wiring';
import type { Upstream } from '../../functions/core/ports';
import type { TestDynamo } from './dynalite';
import { silentLog } from './log';

const NO_UPSTREAM: Upstream = {
  kind: 'user-token',
  canRevoke: false,
  ingestBaseUrl: 'http://127.0.0.1:1/unused',
  createWriteToken: () => Promise.reject(new Error('the operator side never mints')),
  deleteWriteToken: () => Promise.resolve(),
};

/** @example const admin = operatorSide(db); await pauseToken(admin, tokenId, { actor, reason }); */
export function operatorSide(db: TestDynamo): WiredBroker {
  const config = readConfig({
    BROKER_UPSTREAM: 'dev',
    BROKER_TABLE_NAME: db.tableName,
    BROKER_AUDIT_TABLE_NAME: db.auditTableName,
  });
  return wireBroker({ config, doc: db.doc, upstream: NO_UPSTREAM, log: silentLog });
}
