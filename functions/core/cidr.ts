/**
 * CIDR parsing for the WAF allowlists and the broker's own IP policy, with no dependencies. An entry is checked and rewritten to its
 * network address in canonical form (`203.0.113.7/24` → `203.0.113.0/24`): WAF refuses a CIDR with host
 * bits set, and a canonical form does not show up as a diff on every `pulumi up`.
 */
import { isIP } from 'node:net';

export interface Cidr {
  version: 4 | 6;
  /** Canonical `network/prefix`. */
  cidr: string;
}

/**
 * Parses `address[/prefix]`; a bare address is a single host (/32 or /128). Returns undefined when the
 * entry is not an IPv4 or IPv6 CIDR, or its prefix is /0 (WAF refuses /0: an empty allowlist allows all).
 *
 * @example
 * parseCidr('2001:DB8:0::1') // { version: 6, cidr: '2001:db8::1/128' }
 */
export function parseCidr(entry: string): Cidr | undefined {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const version = isIP(address);
  // `%zone` suffixes (link-local scope) mean nothing to WAF.
  if ((version !== 4 && version !== 6) || extra !== undefined || address.includes('%')) return undefined;
  const width = version === 4 ? 32 : 128;
  const bits = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 1 && bits <= width)) return undefined;
  const value = version === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  const network = value & mask;
  return { version, cidr: `${version === 4 ? formatIpv4(network) : formatIpv6(network)}/${bits}` };
}

export function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

export function ipv6ToBigInt(address: string): bigint {
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) is two 16-bit groups.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const tail = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, v4.index)}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups =
    rest === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function formatIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  // The WHATWG URL parser serializes IPv6 in the canonical compressed form (RFC 5952).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
