/**
 * logfire-broker on AWS: `pulumi up` deploys the Lambda bundles of `npm run build` behind API Gateway and
 * WAF, with DynamoDB, Secrets Manager, EventBridge Scheduler and CloudWatch alarms (issue #3).
 *
 *   npm run build                      # dist/functions/<handler>/index.mjs
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
 *     waf.ts             WebACL on the API stage
 *     monitoring.ts      alarms, SNS topic, dashboard
 */
import { loadConfig } from './config';
import { missingBundles } from './functions';
import { HANDLERS } from './handlers';
import { TokenBroker } from './tokenBroker';

// Both checks throw before any resource exists, so `pulumi preview` fails with the reason.
const { settings, upstreamCredential } = loadConfig();
const missing = missingBundles(HANDLERS);
if (missing.length > 0) {
  throw new Error(
    `Lambda bundles not built: ${missing.join(', ')}. Run \`npm run build\` before \`pulumi up\`.`,
  );
}

const broker = new TokenBroker('logfire-broker', { settings, upstreamCredential });

/** Base URL of the API stage: POST `${apiUrl}/v1/tokens` mints. */
export const apiUrl = broker.apiUrl;
export const tokensTableName = broker.storage.tokens.name;
export const auditTableName = broker.storage.audit.name;
/** Put the Logfire credential here (an ARN, never the value). */
export const upstreamSecretArn = broker.upstreamSecret.arn;
export const dashboardUrl = broker.dashboardUrl;
/** `logfire-broker otp enroll` puts the admin TOTP seed here (an ARN, never the value). */
export const adminTotpSecretArn = broker.adminTotpSeed.arn;
