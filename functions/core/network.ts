/**
 * The broker's own IP policy (R10), beside WAF's coarse one: which network an address belongs to (the unit
 * of the per-network mint quota and of token binding), the mint allowlist, and tokens bound to the network
 * they were minted from (like Vault's `token_bound_cidrs`).
 */
import { isIP } from 'node:net';
import { parseCidr } from './cidr';
import { Forbidden } from './errors';
import type { TokenRecord } from './model';
import { cidrMatcher } from './tokenFilter';

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as dual-stack sockets report IPv4 clients) as IPv4. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * The network of an address: its /24 for IPv4, its /48 for IPv6 (a site's usual allocation), canonical.
 * Undefined for a value that is no IP address (then no network quota or binding can apply to it).
 * @example networkOf('203.0.113.7') // '203.0.113.0/24'
 * @example networkOf('2001:db8:1:2::5') // '2001:db8:1::/48'
 */
export function networkOf(address: string): string | undefined {
  const ip = plain(address.trim());
  const version = isIP(ip);
  if (version === 0) return undefined;
  return parseCidr(`${ip}/${version === 4 ? 24 : 48}`)?.cidr;
}

/**
 * A test of the mint allowlist (`BROKER_MINT_ALLOW_CIDRS`); empty allows every address.
 * @example mintAllowed(['203.0.113.0/24'])('198.51.100.1') // false
 */
export function mintAllowlist(cidrs: readonly string[]): (address: string) => boolean {
  if (cidrs.length === 0) return () => true;
  return addressMatcher(cidrs);
}

/** One matcher per list (the settings' lists live as long as the process): none is rebuilt per request. */
const matchers = new WeakMap<readonly string[], (address: string) => boolean>();

/**
 * A test of whether an address (IPv4-mapped included) lies in any of `cidrs`, built once per list.
 * @example addressMatcher(settings.trustedProxies)('10.1.2.3')
 */
export function addressMatcher(cidrs: readonly string[]): (address: string) => boolean {
  let matcher = matchers.get(cidrs);
  if (!matcher) {
    const matches = cidrMatcher(cidrs);
    matcher = (address) => matches(plain(address));
    matchers.set(cidrs, matcher);
  }
  return matcher;
}

/**
 * Refuses a request from outside the network a bound token was minted from (403); a token minted without
 * binding (`boundNetwork` unset) is usable from anywhere.
 * @example checkBoundNetwork(record, origin.sourceIp)
 */
export function checkBoundNetwork(record: Pick<TokenRecord, 'boundNetwork'>, sourceIp: string): void {
  if (!record.boundNetwork) return;
  if (networkOf(sourceIp) !== record.boundNetwork) {
    throw new Forbidden('This token may only be used from the network it was issued to.');
  }
}
