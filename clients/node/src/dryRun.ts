import type { TokenCache } from './cacheFiles';
import { judge, nextHeartbeatAt, pausedReason } from './tokenFlow';

export interface DryRunInput {
  record: TokenCache | undefined;
  installId: string;
  now: number;
  app: { name: string; version: string };
  brokerUrl: string;
  platform: string;
  ci: string | undefined;
  attributes: Record<string, string>;
  prefix: string;
}

/**
 * What a real run would do, for `<APP>_TELEMETRY_DEBUG=1` (issue #5, point 5): the same decision the
 * client takes from its cache, in words, and the resource attributes the telemetry would carry. Built
 * from ids and timestamps only: a write token or client secret never appears.
 *
 * @example
 * dryRunLines(input); // ['would mint a token for hello-cli@1.2.3 at http://127.0.0.1:8787 (install id …)', …]
 */
export function dryRunLines(input: DryRunInput): string[] {
  const { record, installId, app, brokerUrl, ci } = input;
  const mintLine =
    `would mint a token for ${app.name}@${app.version} at ${brokerUrl} ` +
    `(install id ${installId}, platform ${input.platform}${ci ? `, ci ${ci}` : ''})`;
  const lines: string[] = [];
  switch (judge(record, input.now, installId)) {
    case 'use':
      lines.push(
        `would use the cached token ${record!.tokenId} (next heartbeat after ${nextHeartbeatAt(record!)})`,
      );
      break;
    case 'paused':
      lines.push(pausedReason(record!));
      break;
    case 'heartbeat-due':
      lines.push(`would send a heartbeat for token ${record!.tokenId} to ${brokerUrl}`);
      break;
    case 'expired':
      lines.push(`the cached token ${record!.tokenId} has expired: ${mintLine}`);
      break;
    case 'missing':
      lines.push(mintLine);
  }
  lines.push(`would send telemetry with resource attributes ${JSON.stringify(input.attributes)}`);
  lines.push(`dry run (${input.prefix}_TELEMETRY_DEBUG): nothing is sent`);
  return lines;
}
