/**
 * The `Log` port on Powertools Logger: structured JSON lines that CloudWatch Logs Insights can query,
 * the same format locally. 23 KB in a bundle, which buys level control, sampling and Lambda context keys.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../core/ports';
import type { BrokerConfig } from '../config';

/** @example const log = createLog('INFO'); log.info('token minted', { tokenId }); */
export function createLog(level: BrokerConfig['logLevel'], component = 'broker'): Log {
  const logger = new Logger({
    serviceName: 'logfire-broker',
    logLevel: level,
    persistentKeys: { component },
  });
  return {
    debug: (message, attributes) => logger.debug(message, attributes ?? {}),
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
}
