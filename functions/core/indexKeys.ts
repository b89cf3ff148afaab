/**
 * Sortable keys of the admin indexes (docs/data-model.md): a token's app and version, and its source address,
 * as strings whose byte order is the order of versions and of addresses, so a version range or a CIDR is
 * one key range. A range is a superset where versions cannot be ordered exactly by a key (pre-releases,
 * more than three parts): the exact test (tokenFilter.ts) runs on what the index returns.
 */
import { isIP } from 'node:net';
import { InvalidRequest } from './errors';
import { ipv4ToBigInt, ipv6ToBigInt } from './cidr';

export interface KeyRange {
  lo: string;
  hi: string;
}

const PART_WIDTH = 9;
/** After every character a version key holds (they are all below `~`, 0x7E, or it). */
const TOP = '\u007f';
/** The key of a version that does not parse: after every real one, so no version range includes it. */
const UNPARSED = '~~';

interface ParsedVersion {
  release: string[];
  prerelease?: string;
}

function parse(version: string): ParsedVersion | undefined {
  const match = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!match) return undefined;
  return { release: match[1]!.split('.'), prerelease: match[2] };
}

/** The first three release parts, fixed width: `000000001.000000002.000000000`. */
function releaseKey(release: readonly string[]): string {
  return [0, 1, 2]
    .map((i) => {
      const part = (release[i] ?? '0').replace(/^0+(?=\d)/, '');
      return part.length > PART_WIDTH ? '9'.repeat(PART_WIDTH) : part.padStart(PART_WIDTH, '0');
    })
    .join('.');
}

/**
 * The byAppVersion key of a token: `<app>#<version key>`; a release sorts after its pre-releases.
 * @example appVersionKey('hello', '1.2.0') // 'hello#000000001.000000002.000000000~'
 */
export function appVersionKey(app: string, version: string): string {
  const parsed = parse(version);
  if (!parsed) return `${app}#${UNPARSED}`;
  return `${app}#${releaseKey(parsed.release)}${parsed.prerelease ? `-${parsed.prerelease}` : '~'}`;
}

/**
 * The key range holding every token of `app` whose version may be in `range` (`>=1.2.0 <1.4.0`, `<2`), or
 * undefined when no version can be (`>2 <1`).
 * @example appVersionRange('hello', '<2.0.0') // { lo: 'hello#', hi: 'hello#000000002.000000000.000000000-\u007f' }
 */
export function appVersionRange(
  app: string,
  range?: string | { min?: string; max?: string },
): KeyRange | undefined {
  let lo = `${app}#`;
  let hi = `${app}#${TOP}`;
  const bounds: Array<[string, string]> =
    range === undefined
      ? []
      : typeof range === 'string'
        ? range
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((part) => {
              const match = /^(>=|<=|>|<|=)?(.+)$/.exec(part)!;
              return [match[1] ?? '=', match[2]!];
            })
        : [
            ...(range.min === undefined ? [] : [['>=', range.min] as [string, string]]),
            ...(range.max === undefined ? [] : [['<', range.max] as [string, string]]),
          ];
  for (const [op, text] of bounds) {
    const version = parse(text);
    if (!version) throw new InvalidRequest(`version: "${text}" is not a version like 1.2.3.`);
    const base = `${app}#${releaseKey(version.release)}`;
    // Exact only for a plain release of at most three parts; otherwise the widest key range around it.
    const plain = !version.prerelease && version.release.length <= 3;
    const upper = op === '<' && plain ? `${base}-${TOP}` : `${base}~`;
    if (op === '>=' || op === '>' || op === '=') lo = lo > base ? lo : base;
    if (op === '<' || op === '<=' || op === '=') hi = hi < upper ? hi : upper;
  }
  return lo <= hi ? { lo, hi } : undefined;
}

/**
 * The bySource key of an address: `4:` or `6:` and its value in fixed-width hex; an IPv4-mapped IPv6
 * address is keyed as its IPv4 address. Undefined for what is no address.
 * @example sourceAddressKey('203.0.113.7') // '4:cb007107'
 */
export function sourceAddressKey(address: string): string | undefined {
  const ip = address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const version = isIP(ip);
  if (version === 4) return `4:${ipv4ToBigInt(ip).toString(16).padStart(8, '0')}`;
  if (version === 6 && !ip.includes('%')) return `6:${ipv6ToBigInt(ip).toString(16).padStart(32, '0')}`;
  return undefined;
}

/**
 * The bySource key range of a CIDR (a bare address is one host).
 * @example sourceCidrRange('203.0.113.0/24') // { lo: '4:cb007100', hi: '4:cb0071ff' }
 */
export function sourceCidrRange(cidr: string): KeyRange {
  const [address = '', prefix, extra] = cidr.trim().split('/');
  const version = isIP(address);
  const width = version === 4 ? 32 : 128;
  const bits = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (version === 0 || extra !== undefined || !(bits >= 0 && bits <= width)) {
    throw new InvalidRequest(`network: "${cidr}" is not an IPv4 or IPv6 CIDR.`);
  }
  const value = version === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const host = (1n << BigInt(width - bits)) - 1n;
  const digits = width / 4;
  const key = (n: bigint) => `${version}:${n.toString(16).padStart(digits, '0')}`;
  return { lo: key(value & ~host), hi: key(value | host) };
}
