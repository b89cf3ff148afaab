/**
 * The Lambda handlers the stack deploys, as plain data: one entry per `functions/lambda/<name>.ts`, with the
 * routes it serves and exactly what it may touch. A new handler (admin, ingest) is added HERE and nowhere
 * else in infra/: its function, log group, role and policy, API routes and schedule follow.
 *
 * The DynamoDB actions are the operations the handler's store calls make (docs/data-model.md);
 * test/iam-actions.test.ts runs each handler against dynalite and checks these lists against the wire.
 */
import { join } from 'node:path';
import type { AUDIT_INDEX, INDEX } from '../functions/adapters/store/tables';
import type { RouteName } from '../functions/http/routes';

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:BatchWriteItem';

/**
 * What a role may do on the audit table, which is append-only: no UpdateItem or DeleteItem, ever (R5).
 * IAM cannot tell a BatchWriteItem's puts from its deletes, so a role holding it could delete entries it
 * knows the key of; the code never does, and point-in-time recovery keeps 35 days of the table.
 */
export type AuditTableAction = Extract<
  DynamoAction,
  'dynamodb:PutItem' | 'dynamodb:BatchWriteItem' | 'dynamodb:Query'
>;

/** What a handler may do on one table; `indexes` only when it queries them (grants `<table>/index/<name>`). */
export interface TableAccess<Index extends string, Action extends DynamoAction = DynamoAction> {
  actions: readonly Action[];
  indexes?: readonly Index[];
}

export interface HandlerSpec {
  /** `functions/lambda/<name>.ts`, bundled by `npm run build` to `dist/functions/<name>/index.mjs`. */
  name: string;
  description: string;
  /** API routes it serves (functions/http/routes.ts); none for scheduled jobs. */
  routes: readonly RouteName[];
  tokens: TableAccess<(typeof INDEX)[keyof typeof INDEX]>;
  /** The audit table: appends only (`AuditTableAction`). */
  audit?: TableAccess<(typeof AUDIT_INDEX)[keyof typeof AUDIT_INDEX], AuditTableAction>;
  /** Calls Logfire, so reads the upstream credential from Secrets Manager. */
  readsUpstreamSecret: boolean;
  /** Checks the admin second factor, so reads the TOTP seed (the admin function, and no other). */
  readsAdminTotpSeed?: boolean;
  /** Overrides `lambdaMemoryMb` / `lambdaTimeoutSeconds` (an API handler must stay within 29 s). */
  memoryMb?: number;
  timeoutSeconds?: number;
}

/**
 * The scheduled jobs run longer than an API call may (Lambda allows 900 s): each stops taking new pages
 * well before its timeout and the next run resumes from the index, so the timeout only bounds one run.
 * They wait on DynamoDB one page at a time, so 256 MB is plenty and does not follow `lambdaMemoryMb`,
 * which buys CPU for the API's latency.
 */
export const JOB_RESOURCES = {
  rotate: { timeoutSeconds: 300, memoryMb: 256 },
  sweep: { timeoutSeconds: 600, memoryMb: 256 },
} as const satisfies Record<string, Pick<HandlerSpec, 'timeoutSeconds' | 'memoryMb'>>;

export const HANDLERS: readonly HandlerSpec[] = [
  {
    name: 'mint',
    description: 'POST /v1/tokens: mints a Logfire write token for one installation',
    routes: ['mint'],
    // BatchWriteItem: the token record with its audit entry and the removal of its mint intent (one
    // request across both tables); PutItem: the mint intent, the idempotency claim; GetItem: a claim
    // someone else holds; UpdateItem: completes the claim; DeleteItem: releases it when the mint failed.
    tokens: {
      actions: [
        'dynamodb:BatchWriteItem',
        'dynamodb:PutItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ],
    },
    audit: { actions: ['dynamodb:BatchWriteItem'] },
    readsUpstreamSecret: true,
  },
  {
    name: 'heartbeat',
    description: 'POST /v1/tokens/{tokenId}/heartbeat: a client checks in',
    routes: ['heartbeat'],
    // UpdateItem: the heartbeat itself, its hourly quota counted in the same write; nothing else, refused
    // or not (a failed condition is always a wrong or dead credential).
    tokens: { actions: ['dynamodb:UpdateItem'] },
    // BatchWriteItem: the heartbeat-storm signal, once per token and hour at its first refusal (anomalies).
    audit: { actions: ['dynamodb:BatchWriteItem'] },
    readsUpstreamSecret: false,
  },
  {
    name: 'refresh',
    description: 'POST /v1/tokens/{tokenId}/refresh: replaces a token and its client secret',
    routes: ['refresh'],
    // UpdateItem: claim, release, complete, revoke; GetItem: refusals, the grace's successor and chain
    // walks; BatchWriteItem: the successor with its audit entry and its intent's removal; PutItem: the
    // successor's mint intent, the note of a chain revocation, which the sweep finishes.
    // Reuse detection walks the chain by successorId/parentId with GetItem, so no index is needed.
    // UpdateItem also takes the chain's refresh quota; GetItem reads the quota overrides; DeleteItem drops the
    // mint intent of a successor refused by policy (quota, bound network) before Logfire was asked.
    tokens: {
      actions: [
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
      ],
    },
    // BatchWriteItem: the successor's entry, and reuse detection's entries.
    audit: { actions: ['dynamodb:BatchWriteItem'] },
    readsUpstreamSecret: true,
  },
  {
    name: 'relay',
    description: 'POST /v1/{traces,logs,metrics}: the ingest relay (relay mode), forwards OTLP to Logfire',
    routes: ['relay'],
    // UpdateItem: the one charge per batch, and the removal of counters of windows long past; GetItem: a
    // refused token (why), the upstream pool; PutItem: the pool, created on first use or repaired.
    tokens: { actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'] },
    // BatchWriteItem: the pool's creation and repairs.
    audit: { actions: ['dynamodb:BatchWriteItem'] },
    // The pool key is derived from the credential; the pool's tokens are made with it.
    readsUpstreamSecret: true,
  },
  {
    name: 'admin',
    description: '/v1/admin/*: the admin API (AWS_IAM; TOTP for sensitive operations)',
    routes: ['admin'],
    // Query: the list's and the bulk jobs' indexes (byInstall, byAppVersion, bySource, byExpireAt), a
    // token's chain (byChain), the anomaly actions (byChain, reserved id); BatchGetItem: the records of
    // those keys; GetItem: a token, a job, the overrides, an anomaly action, the TOTP state; PutItem: a new
    // bulk job; UpdateItem: pause, resume, revoke, a job's progress, the overrides, the TOTP state.
    tokens: {
      actions: [
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      indexes: ['byInstall', 'byChain', 'byExpireAt', 'byAppVersion', 'bySource'],
    },
    // BatchWriteItem: every admin action's and every OTP attempt's entry; Query: a token's or an install's
    // history, and the time range (audit, stats).
    audit: { actions: ['dynamodb:BatchWriteItem', 'dynamodb:Query'], indexes: ['byInstall', 'byTime'] },
    // A pause or revoke deletes the client's Logfire token (direct mode: Logfire has no pause).
    readsUpstreamSecret: true,
    readsAdminTotpSeed: true,
  },
  {
    name: 'rotate',
    description: 'scheduled: marks the tokens due for rotation, through the byRotateAt index',
    routes: [],
    // Query: the due entries of byRotateAt, never a Scan; UpdateItem: active -> rotate, one per token.
    // GetItem and PutItem: the relay's upstream pool, rotated on the same schedule (relay mode).
    tokens: {
      actions: ['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      indexes: ['byRotateAt'],
    },
    // BatchWriteItem: each page's token.rotation_due entries and the run's job.rotation entry.
    audit: { actions: ['dynamodb:BatchWriteItem'] },
    // Lazy rotation: the client's next refresh replaces its upstream token. Only the relay's pool (relay
    // mode) is rotated here, which makes a Logfire token and deletes the one before.
    readsUpstreamSecret: true,
    ...JOB_RESOURCES.rotate,
  },
  {
    name: 'sweep',
    description:
      'scheduled: finishes chain revocations, reclaims and expires tokens, deletes upstream tokens, runs the anomaly rules',
    routes: [],
    // Query: chain-revocation notes, mint intents and chain members (byChain), silent (bySeenAt), expired
    // (byExpireAt) and queued-for-deletion (byDeleteAt) tokens, and whether a record holds a Logfire token
    // (byUpstreamId), the tokens that relayed lately (byRelayAt, the relay-volume rule); BatchGetItem: the records of a chain's members and the intents; UpdateItem: revoke,
    // reclaim, expire, defer or dequeue one token; DeleteItem: a finished chain note, a settled intent.
    // Anomaly rules: GetItem/UpdateItem the cursor and an action's record, PutItem claims an action, Query
    // byInstall/byChain the tokens an action pauses or revokes, GetItem a token an admin operation re-reads.
    tokens: {
      actions: [
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      ],
      indexes: ['byChain', 'bySeenAt', 'byExpireAt', 'byDeleteAt', 'byUpstreamId', 'byInstall', 'byRelayAt'],
    },
    // Query byTime: the anomaly rules read each closed window of the audit trail once.
    audit: { actions: ['dynamodb:BatchWriteItem', 'dynamodb:Query'], indexes: ['byTime'] },
    // Deletes upstream tokens at Logfire.
    readsUpstreamSecret: true,
    ...JOB_RESOURCES.sweep,
  },
];

/**
 * The handlers a stack deploys: the relay's only in relay mode (no function, no route, no binary media types
 * in direct mode).
 * @example deployedHandlers('direct').map((handler) => handler.name) // ['mint', 'heartbeat', 'refresh', 'rotate', 'sweep']
 */
export function deployedHandlers(
  ingestMode: 'direct' | 'relay',
  handlers: readonly HandlerSpec[] = HANDLERS,
): HandlerSpec[] {
  return handlers.filter((handler) => ingestMode === 'relay' || !handler.routes.includes('relay'));
}

/** Which stack setting holds a schedule's expression (see infra/settings.ts). */
export type ScheduleSetting = 'rotationSchedule' | 'sweepSchedule';

export interface ScheduleSpec {
  name: string;
  /** A `HANDLERS` entry without routes. */
  handler: string;
  expression: ScheduleSetting;
  description: string;
}

/** EventBridge Scheduler entries (issue #4): the jobs of DESIGN §4, at the times the stack settings give. */
export const SCHEDULES: readonly ScheduleSpec[] = [
  {
    name: 'rotation',
    handler: 'rotate',
    expression: 'rotationSchedule',
    description: 'marks tokens due for rotation',
  },
  {
    name: 'sweep',
    handler: 'sweep',
    expression: 'sweepSchedule',
    description: 'expires and reclaims tokens, and retries upstream deletions',
  },
];

/** Where `npm run build` (scripts/build.ts) writes the bundles. */
export const BUNDLE_DIR = join(__dirname, '..', 'dist', 'functions');

/**
 * The bundle a handler deploys.
 * @example bundlePath('mint') // '<repo>/dist/functions/mint/index.mjs'
 */
export function bundlePath(name: string, dir = BUNDLE_DIR): string {
  return join(dir, name, 'index.mjs');
}

/** The handler named `name`; throws on a name that is not in `handlers`. */
export function handlerNamed(name: string, handlers: readonly HandlerSpec[] = HANDLERS): HandlerSpec {
  const spec = handlers.find((handler) => handler.name === name);
  if (!spec) throw new Error(`no handler named "${name}" in infra/handlers.ts`);
  return spec;
}
