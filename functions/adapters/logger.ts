/**
 * The `Log` port on Powertools Logger: structured JSON lines that CloudWatch Logs Insights can query,
 * the same format locally. 23 KB in a bundle, which buys level control, sampling and Lambda context keys.
 * Every line is scrubbed of anything shaped like a Logfire key or token (v1 and v2) before it is written:
 * the last guard, behind the adapters that never log a secret on purpose.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../core/ports';
import type { BrokerConfig } from '../config';
import { redact } from './upstream/tokenShape';

/** How deep attributes are scrubbed; deeper values are dropped rather than written unchecked. */
const MAX_DEPTH = 6;

/** @example const log = createLog('INFO'); log.info('token minted', { tokenId }); */
export function createLog(level: BrokerConfig['logLevel'], component = 'broker'): Log {
  const logger = new Logger({
    serviceName: 'logfire-broker',
    logLevel: level,
    persistentKeys: { component },
  });
  const at =
    (write: (message: string, attributes: Record<string, unknown>) => void) =>
    (message: string, attributes?: Record<string, unknown>) =>
      write(redact(message), scrub(attributes ?? {}, 0) as Record<string, unknown>);
  return {
    debug: at((message, attributes) => logger.debug(message, attributes)),
    info: at((message, attributes) => logger.info(message, attributes)),
    warn: at((message, attributes) => logger.warn(message, attributes)),
    error: at((message, attributes) => logger.error(message, attributes)),
  };
}

/**
 * A copy of `value` with every string redacted. Errors stay errors (Powertools writes their name, message
 * and stack), with message and stack redacted.
 */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return '[too deep to log]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (value instanceof Error) {
    // message, stack and cause are not enumerable: copied by hand, on a copy that keeps the class.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Error, {
      ...scrubFields(value, depth),
      message: redact(value.message),
    });
    if (value.stack) copy.stack = redact(value.stack);
    if (value.cause !== undefined) copy.cause = scrub(value.cause, depth + 1);
    return copy;
  }
  return scrubFields(value, depth);
}

function scrubFields(value: object, depth: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, scrub(field, depth + 1)]));
}
