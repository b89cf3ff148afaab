/**
 * What every admin route reads from its event: the caller (the IAM principal API Gateway's AWS_IAM
 * authorization, or the local server's SigV4 check, proved), the reason, the query, the second factor.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AdminContext } from '../core/admin';
import type { BrokerDeps } from '../core/deps';
import { Forbidden, InvalidRequest } from '../core/errors';
import { requireOtp } from '../core/otp';
import { boundedBody, header, jsonBody, origin } from '../http/reply';

/** The admin's principal, as `admin:<ARN>` (AWS) or `admin:local:<access key id>` (the local server). */
export function adminActor(event: APIGatewayProxyEvent): `admin:${string}` {
  const principal = event.requestContext?.identity?.userArn;
  // API Gateway passes no request without a valid signature; an event without a caller is not one of its.
  if (!principal) throw new Forbidden('The request is not signed with valid admin credentials.');
  return `admin:${principal}`;
}

export function adminContext(deps: BrokerDeps, event: APIGatewayProxyEvent, reason: string): AdminContext {
  return {
    actor: adminActor(event),
    reason,
    sourceIp: origin(event, deps.settings.trustedProxies).sourceIp,
  };
}

/** The body as an object; an empty body is `{}` on routes whose fields are all optional. */
export function adminBody(
  event: APIGatewayProxyEvent,
  options: { optional?: boolean } = {},
): Record<string, unknown> {
  if (options.optional && boundedBody(event).length === 0) return {};
  return jsonBody(event) as Record<string, unknown>;
}

/** `reason`: what every change records, 1 to 500 characters. */
export function reasonOf(body: Record<string, unknown>): string {
  const reason = body.reason;
  if (typeof reason !== 'string' || !reason.trim() || reason.length > 500) {
    throw new InvalidRequest('reason: say why, in 1 to 500 characters.');
  }
  return reason.trim();
}

/** Refuses fields a route does not take, naming the first. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new InvalidRequest(`${extra}: not a field of this request.`);
}

/** A query parameter, refused when repeated or overlong. */
export function queryParam(event: APIGatewayProxyEvent, name: string): string | undefined {
  const values = event.multiValueQueryStringParameters?.[name];
  if (values && values.length > 1) throw new InvalidRequest(`${name}: give it once.`);
  const value = event.queryStringParameters?.[name] ?? undefined;
  if (value !== undefined && value.length > 2048) throw new InvalidRequest(`${name}: too long.`);
  return value;
}

/** Refuses query parameters a route does not take. */
export function onlyQuery(event: APIGatewayProxyEvent, allowed: readonly string[]): void {
  const extra = Object.keys(event.queryStringParameters ?? {}).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new InvalidRequest(`${extra}: not a parameter of this route.`);
}

/** `limit`: 1 to `max`, default `fallback`. */
export function limitOf(event: APIGatewayProxyEvent, fallback = 100, max = 500): number {
  const text = queryParam(event, 'limit');
  if (text === undefined) return fallback;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new InvalidRequest(`limit: expected a whole number from 1 to ${max}.`);
  }
  return Number(text);
}

/** Checks `X-Broker-OTP` for a sensitive operation (core/otp.ts). */
export function checkOtp(deps: BrokerDeps, event: APIGatewayProxyEvent, operation: string): Promise<void> {
  return requireOtp(deps, {
    code: header(event, 'x-broker-otp'),
    actor: adminActor(event),
    operation,
    sourceIp: origin(event, deps.settings.trustedProxies).sourceIp,
  });
}
