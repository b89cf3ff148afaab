/**
 * logfire-broker on AWS: `pulumi up` deploys the Lambda bundles of `npm run build` behind API Gateway and
 * WAF, with DynamoDB, Secrets Manager, EventBridge Scheduler and CloudWatch alarms (issue #3).
 *
 *   npm run build                      # dist/functions/<handler>/index.mjs (+ dist/meta manifests, checked here)
 *   pulumi config set logfireProjectId <uuid>
 *   pulumi up
 *   aws secretsmanager put-secret-value --secret-id "$(pulumi stack output upstreamSecretArn)" \
 *     --secret-string '<Logfire API key>'
 *
 * Where things are:
 *   infra/config.ts      reads `pulumi config`; infra/settings.ts validates it (every key in Pulumi.dev.yaml)
 *   infra/handlers.ts    the Lambda handlers and schedules, as data: a new handler is added there
 *   infra/tokenBroker.ts the component that composes the rest:
 *     storage.ts         DynamoDB tables (from functions/adapters/store/tables.ts)
 *     secrets.ts         the Secrets Manager secret of the Logfire credential
 *     functions.ts       one Lambda, log group and least-privilege role per handler (policies.ts)
 *     api.ts             API Gateway REST API from functions/http/routes.ts
 *     schedules.ts       EventBridge Scheduler runs rotate and sweep; failed runs go to a dead-letter queue
 *     waf.ts             WebACL on the API stage (optional logging)
 *     domain.ts          the optional custom domain (what a CLI should ship)
 *     monitoring.ts      alarms (alarms.ts, watchdogs.ts), SNS topic, dashboard
 *   infra/bundles.ts     refuses bundles built from other sources; infra/provider.ts default tags
 *   policy/              the policy pack: `pulumi preview --policy-pack policy`
 */
import { bundleProblems } from './bundles';
import { loadConfig } from './config';
import { deployedHandlers, HANDLERS } from './handlers';
import { stackProvider } from './provider';
import { TokenBroker } from './tokenBroker';

// Both checks throw before any resource exists, so `pulumi preview` fails with the reason.
const { settings, upstreamCredential } = loadConfig();
const stale = bundleProblems(deployedHandlers(settings.ingestMode, HANDLERS));
if (stale.length > 0) {
  throw new Error(
    `The Lambda bundles are not what the sources build (${stale.join('; ')}). Run \`npm run build\` before \`pulumi up\`.`,
  );
}

// Default tags (project, stack) on every resource, and the stack's aws:* settings (infra/provider.ts).
const broker = new TokenBroker(
  'logfire-broker',
  { settings, upstreamCredential },
  { providers: { aws: stackProvider() } },
);

/**
 * The URL to ship in a CLI: the custom domain when `domainName` is set, else the stage's execute-api URL
 * (README, "A stable URL"). POST `${apiUrl}/v1/tokens` mints.
 */
export const apiUrl = broker.apiUrl;
/** The stage's own `https://<id>.execute-api.<region>.amazonaws.com/<stage>` (off with disableExecuteApiEndpoint). */
export const executeApiUrl = broker.api.url;
/** Where to point the custom domain's DNS name when the stack does not manage the zone. */
export const customDomainTarget = broker.domain?.target;
/** The scheduled jobs' dead-letter queue (README, "The dead-letter queue"). */
export const jobsDeadLetterQueueUrl = broker.schedules.deadLetterQueue?.url;
/** Each function's name → the version `live` points at: what a rollback moves back from. */
export const liveVersions = broker.functions.liveVersions();
export const tokensTableName = broker.storage.tokens.name;
export const auditTableName = broker.storage.audit.name;
/** Put the Logfire credential here (an ARN, never the value). */
export const upstreamSecretArn = broker.upstreamSecret.arn;
export const dashboardUrl = broker.dashboardUrl;
/** `logfire-broker otp enroll` puts the admin TOTP seed here (an ARN, never the value). */
export const adminTotpSecretArn = broker.adminTotpSeed.arn;
