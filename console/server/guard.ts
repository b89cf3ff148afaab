/**
 * Who may drive the console's proxy: only its own page. The proxy signs with the operator's AWS credentials,
 * so any web page that could reach it (another site's script, a DNS-rebinding page that resolves its own
 * name to 127.0.0.1) could act as the operator. Three checks, each enough against one of those:
 * - `Host` names this server (127.0.0.1 or localhost at its port): a rebinding page's requests carry its
 *   own host name.
 * - `Origin`, when the browser sends one, is this server's; a same-origin GET carries none, so it must say
 *   `Sec-Fetch-Site: same-origin` instead. Another site's request says otherwise.
 * - `X-Console-Token` is the random token of this start, which only the page served here holds; a custom
 *   header also makes any cross-origin request a CORS preflight, which this server never allows.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_HEADER = 'x-console-token';

export type Refusal = { status: number; code: string; message: string };

/** The host names a browser on this machine uses for the console (the printed URL is 127.0.0.1's). */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** Refuses a request whose Host is not this server (a DNS-rebinding page), for the page as for the API. */
export function checkHost(headers: IncomingHttpHeaders, hosts: Set<string>): Refusal | undefined {
  const host = headers.host?.toLowerCase();
  if (host !== undefined && hosts.has(host)) return undefined;
  return {
    status: 403,
    code: 'host_refused',
    message: `This console answers only at ${[...hosts][0]}; open the URL it printed.`,
  };
}

/**
 * Refuses an API request that does not come from the page this server served (checkHost has passed).
 * @example checkApiCaller(request.method, request.headers, token) // undefined when allowed
 */
export function checkApiCaller(
  method: string,
  headers: IncomingHttpHeaders,
  token: string,
): Refusal | undefined {
  const ownOrigin = `http://${headers.host?.toLowerCase()}`;
  const origin = headers.origin;
  const fetchSite = headers['sec-fetch-site'];
  const sameOrigin =
    origin !== undefined
      ? origin.toLowerCase() === ownOrigin && (fetchSite === undefined || fetchSite === 'same-origin')
      : method === 'GET' && fetchSite === 'same-origin';
  if (!sameOrigin) {
    return {
      status: 403,
      code: 'origin_refused',
      message: 'The console API answers only its own page; use the logfire-broker CLI for scripts.',
    };
  }
  const given = headers[TOKEN_HEADER];
  if (typeof given !== 'string' || !sameText(given, token)) {
    return {
      status: 403,
      code: 'console_token_invalid',
      message: 'This page is from an earlier start of the console: reload it.',
    };
  }
  return undefined;
}

/** Compares a secret in constant time. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
