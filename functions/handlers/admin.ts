/**
 * Every `/v1/admin/*` route (docs/admin-api.md), in one function: API Gateway has checked the SigV4 signature
 * (AWS_IAM), or the local server has; the sensitive routes also check the second factor before they change
 * anything. Each route reads and checks its input first (400 naming the field), then calls the core.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { changeToken, type TokenAction } from '../core/admin';
import { ADMIN_FILTER_KEYS, type AdminFilter } from '../core/adminContract';
import { adminStats } from '../core/adminStats';
import {
  checkAllowlist,
  checkQuotaChanges,
  getAllowlist,
  getQuotas,
  putAllowlist,
  putQuotas,
} from '../core/adminSettings';
import { compileAdminFilter, listAdminTokens, showAdminToken } from '../core/adminTokens';
import { parseClientSettingsRules, readClientSettings, replaceClientSettings } from '../core/clientSettings';
import { undoAnomalyAction } from '../core/anomalies/actions';
import type { BrokerDeps } from '../core/deps';
import { InvalidRequest, NotFound } from '../core/errors';
import {
  checkBulkAction,
  countBulkMatches,
  createBulkJob,
  getJob,
  jobView,
  runBulkJob,
} from '../core/bulkJobs';
import { json, noBody, route, type ProxyHandler } from '../http/reply';
import {
  adminActor,
  adminBody,
  adminContext,
  checkOtp,
  limitOf,
  onlyFields,
  onlyQuery,
  queryParam,
  reasonOf,
} from './adminRequest';
import { auditQuery } from './adminAudit';
import type { DepsSource } from './shared';

type Work = (deps: BrokerDeps, event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const FILTER_PARAMS = ADMIN_FILTER_KEYS;

const param = (event: APIGatewayProxyEvent, name: string): string => {
  const value = event.pathParameters?.[name];
  if (!value || value.length > 200) throw new NotFound(`No such ${name.replace(/Id$/, '')}.`);
  return value;
};

const tokenAction =
  (action: TokenAction): Work =>
  async (deps, event) => {
    const body = adminBody(event);
    onlyFields(body, ['reason']);
    const reason = reasonOf(body);
    const tokenId = param(event, 'tokenId');
    // Resuming what an anomaly rule stopped is sensitive: the rule may have been right.
    if (action === 'resume') {
      const record = await deps.store.getToken(tokenId);
      if (record?.status === 'paused' && record.statusReason?.startsWith('anomaly ')) {
        await checkOtp(deps, event, 'tokens.resume');
      }
    }
    const result = await changeToken(deps, action, tokenId, adminContext(deps, event, reason));
    if (result.outcome === 'not_found') throw new NotFound('No token with this id.');
    return json(200, result);
  };

const ROUTES: Record<string, Work> = {
  'GET /v1/admin/tokens': async (deps, event) => {
    noBody(event);
    onlyQuery(event, [...FILTER_PARAMS, 'limit', 'cursor']);
    const filter: AdminFilter = {};
    for (const name of FILTER_PARAMS) {
      const value = queryParam(event, name);
      if (value !== undefined) filter[name] = value;
    }
    return json(200, await listAdminTokens(deps, filter, limitOf(event), queryParam(event, 'cursor')));
  },
  'GET /v1/admin/tokens/{tokenId}': async (deps, event) => {
    noBody(event);
    onlyQuery(event, []);
    return json(200, await showAdminToken(deps, param(event, 'tokenId')));
  },
  'POST /v1/admin/tokens/{tokenId}/pause': tokenAction('pause'),
  'POST /v1/admin/tokens/{tokenId}/resume': tokenAction('resume'),
  'POST /v1/admin/tokens/{tokenId}/revoke': tokenAction('revoke'),
  'POST /v1/admin/bulk': async (deps, event) => {
    const body = adminBody(event);
    onlyFields(body, ['action', 'filter', 'reason', 'dryRun']);
    const action = checkBulkAction(body.action);
    const filter = body.filter;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      throw new InvalidRequest('filter: expected an object such as {"app": "hello", "version": "<2.0.0"}.');
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') {
      throw new InvalidRequest('dryRun: expected true or false.');
    }
    const reason = reasonOf(body);
    if (body.dryRun)
      return json(200, { matched: await countBulkMatches(deps, action, filter as AdminFilter) });
    // The filter is checked before the second factor, so a typo spends no code.
    compileAdminFilter(filter as AdminFilter, { forBulk: true });
    const context = adminContext(deps, event, reason);
    await checkOtp(deps, event, `bulk.${action}`);
    return json(201, { job: jobView(await createBulkJob(deps, action, filter as AdminFilter, context)) });
  },
  'GET /v1/admin/bulk/{jobId}': async (deps, event) => {
    noBody(event);
    return json(200, { job: jobView(await getJob(deps, param(event, 'jobId'))) });
  },
  'POST /v1/admin/bulk/{jobId}/run': async (deps, event) => {
    onlyFields(adminBody(event, { optional: true }), []);
    adminActor(event);
    return json(200, { job: jobView((await runBulkJob(deps, param(event, 'jobId'))).job) });
  },
  'GET /v1/admin/quotas': async (deps, event) => {
    noBody(event);
    return json(200, await getQuotas(deps));
  },
  'PUT /v1/admin/quotas': async (deps, event) => {
    const changes = checkQuotaChanges(adminBody(event));
    const context = adminContext(deps, event, 'quota change');
    await checkOtp(deps, event, 'quotas.put');
    return json(200, await putQuotas(deps, changes, context));
  },
  'GET /v1/admin/allowlist': async (deps, event) => {
    noBody(event);
    return json(200, await getAllowlist(deps));
  },
  'PUT /v1/admin/allowlist': async (deps, event) => {
    const cidrs = checkAllowlist(adminBody(event));
    const context = adminContext(deps, event, 'allowlist change');
    await checkOtp(deps, event, 'allowlist.put');
    return json(200, await putAllowlist(deps, cidrs, context));
  },
  'GET /v1/admin/settings': async (deps, event) => {
    noBody(event);
    onlyQuery(event, []);
    return json(200, await readClientSettings(deps));
  },
  'PUT /v1/admin/settings': async (deps, event) => {
    const body = adminBody(event);
    parseClientSettingsRules(body); // a bad body is a 400 before the code is spent
    const context = adminContext(deps, event, 'remote client settings change');
    await checkOtp(deps, event, 'settings.put');
    return json(200, await replaceClientSettings(deps, body, context));
  },
  'GET /v1/admin/anomalies': async (deps, event) => {
    noBody(event);
    onlyQuery(event, ['limit', 'cursor']);
    const page = await deps.store.listAnomalyActions(limitOf(event, 50, 100), queryParam(event, 'cursor'));
    return json(200, { actions: page.items, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
  },
  'POST /v1/admin/anomalies/{actionId}/undo': async (deps, event) => {
    const body = adminBody(event);
    onlyFields(body, ['reason']);
    const context = adminContext(deps, event, reasonOf(body));
    const actionId = param(event, 'actionId');
    if (!/^anm_[A-Za-z0-9_-]{22}$/.test(actionId)) throw new NotFound('No anomaly action with this id.');
    await checkOtp(deps, event, 'anomalies.undo');
    return json(200, await undoAnomalyAction(deps, actionId, context));
  },
  'GET /v1/admin/audit': async (deps, event) => {
    noBody(event);
    return json(200, await auditQuery(deps, event));
  },
  'GET /v1/admin/stats': async (deps, event) => {
    noBody(event);
    onlyQuery(event, []);
    return json(200, await adminStats(deps));
  },
};

/** Every `/v1/admin/*` route, by method and resource path (functions/http/routes.ts). */
export function adminHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      const work = ROUTES[`${event.httpMethod} ${event.resource}`];
      if (!work) throw new NotFound();
      adminActor(event);
      return work(deps(), event);
    },
  );
}
