/** A `Log` that keeps every line, for tests that assert what was (and was not) logged. */
import type { Log } from '../../functions/core/ports';

export interface LogLine {
  level: string;
  message: string;
  attributes?: Record<string, unknown>;
}

/** A `Log` that drops every line. */
export const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export function capturingLog(lines: LogLine[]): Log {
  const at = (level: string) => (message: string, attributes?: Record<string, unknown>) =>
    void lines.push({ level, message, attributes });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** @example const { log, lines } = captureLog(); */
export function captureLog(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: capturingLog(lines), lines };
}
