/**
 * The Lambda handlers the stack deploys, as plain data: one entry per `functions/lambda/<name>.ts`, with the
 * routes it serves and exactly what it may touch. A new handler (admin, rotation, sweep, ingest) is added
 * HERE and nowhere else in infra/: its function, log group, role and policy, API routes and schedule follow.
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
  | 'dynamodb:BatchGetItem';

/** What a handler may do on one table; `indexes` only when it queries them (grants `<table>/index/<name>`). */
export interface TableAccess<Index extends string> {
  actions: readonly DynamoAction[];
  indexes?: readonly Index[];
}

export interface HandlerSpec {
  /** `functions/lambda/<name>.ts`, bundled by `npm run build` to `dist/functions/<name>/index.mjs`. */
  name: string;
  description: string;
  /** API routes it serves (functions/http/routes.ts); none for scheduled jobs. */
  routes: readonly RouteName[];
  tokens: TableAccess<(typeof INDEX)[keyof typeof INDEX]>;
  /** The audit table; no handler writes it yet. */
  audit?: TableAccess<(typeof AUDIT_INDEX)[keyof typeof AUDIT_INDEX]>;
  /** Calls Logfire, so reads the upstream credential from Secrets Manager. */
  readsUpstreamSecret: boolean;
  /** Overrides `lambdaMemoryMb` / `lambdaTimeoutSeconds` (an API handler must stay within 29 s). */
  memoryMb?: number;
  timeoutSeconds?: number;
}

export const HANDLERS: readonly HandlerSpec[] = [
  {
    name: 'mint',
    description: 'POST /v1/tokens: mints a Logfire write token for one installation',
    routes: ['mint'],
    // PutItem: token record and idempotency claim; GetItem: a claim someone else holds;
    // UpdateItem: completes the claim; DeleteItem: releases it when the mint failed.
    tokens: {
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    },
    readsUpstreamSecret: true,
  },
  {
    name: 'heartbeat',
    description: 'POST /v1/tokens/{tokenId}/heartbeat: a client checks in',
    routes: ['heartbeat'],
    // UpdateItem: the heartbeat itself; GetItem: only when its condition failed, to tell why.
    tokens: { actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'] },
    readsUpstreamSecret: false,
  },
  {
    name: 'refresh',
    description: 'POST /v1/tokens/{tokenId}/refresh: replaces a token and its client secret',
    routes: ['refresh'],
    // UpdateItem: claim, release, complete, revoke; GetItem: refusals and chain walks; PutItem: the successor.
    // Reuse detection walks the chain by successorId/parentId with GetItem, so no index is needed.
    tokens: { actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'] },
    readsUpstreamSecret: true,
  },
];

/** Which stack setting holds a schedule's expression (see infra/settings.ts). */
export type ScheduleSetting = 'rotationSchedule' | 'sweepSchedule';

export interface ScheduleSpec {
  name: string;
  /** A `HANDLERS` entry without routes. */
  handler: string;
  expression: ScheduleSetting;
  description: string;
}

/**
 * EventBridge Scheduler entries. Empty until the rotation and sweep handlers land (issue #4), which add e.g.
 * `{ name: 'rotation', handler: 'rotate', expression: 'rotationSchedule', description: '...' }`.
 */
export const SCHEDULES: readonly ScheduleSpec[] = [];

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
