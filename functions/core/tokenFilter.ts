/**
 * Filters of the bulk admin operations (R3): which tokens a bulk pause, resume or revoke applies to.
 * Pure code: checked once (a bad filter is a 400 naming the field), then applied to each record.
 */
import { BlockList, isIP } from 'node:net';
import { InvalidRequest } from './errors';
import type { TokenRecord, TokenStatus } from './model';

export interface TokenFilter {
  installId?: string;
  appName?: string;
  /**
   * A range of app versions: comparators joined by spaces, all of which must hold (`>=1.2.0 <1.4.0`,
   * `<2`, `=1.3.1`, a bare version means `=`), or `{ min, max }` with min inclusive and max exclusive.
   */
  appVersion?: string | { min?: string; max?: string };
  /** Where the token was requested from: one CIDR or several (IPv4 or IPv6; a bare address is one host). */
  sourceCidr?: string | readonly string[];
  /** Creation time, epoch ms: `from` inclusive, `to` exclusive. */
  createdAt?: { from?: number; to?: number };
  /** Last heartbeat (creation before the first), epoch ms: `from` inclusive, `to` exclusive. */
  seenAt?: { from?: number; to?: number };
  /** Any of these statuses. */
  status?: readonly TokenStatus[];
}

/**
 * Checks `filter` and returns its test. A filter without any criterion is refused: a bulk change of every
 * token must not happen by omission.
 * @example compileFilter({ appVersion: '>=1.2.0 <1.4.0', sourceCidr: '203.0.113.0/24' })(record) // true | false
 */
export function compileFilter(
  filter: TokenFilter,
  options: { allowEmpty?: boolean } = {},
): (record: TokenRecord) => boolean {
  const tests: Array<(record: TokenRecord) => boolean> = [];
  if (filter.status !== undefined) {
    const statuses = new Set(filter.status);
    tests.push((r) => statuses.has(r.status));
  }
  if (filter.seenAt !== undefined) {
    const { from = -Infinity, to = Infinity } = filter.seenAt;
    if (from >= to) throw new InvalidRequest('seenAt: give `from` < `to`, as epoch milliseconds.');
    tests.push((r) => (r.lastHeartbeatAt ?? r.createdAt) >= from && (r.lastHeartbeatAt ?? r.createdAt) < to);
  }
  if (filter.installId !== undefined) tests.push((r) => r.installId === filter.installId);
  if (filter.appName !== undefined) tests.push((r) => r.appName === filter.appName);
  if (filter.appVersion !== undefined) {
    const inRange = versionRange(filter.appVersion);
    tests.push((r) => inRange(r.appVersion));
  }
  if (filter.sourceCidr !== undefined) {
    const cidrs = typeof filter.sourceCidr === 'string' ? [filter.sourceCidr] : filter.sourceCidr;
    const contains = cidrMatcher(cidrs);
    tests.push((r) => contains(r.sourceIp));
  }
  if (filter.createdAt !== undefined) {
    const { from = -Infinity, to = Infinity } = filter.createdAt;
    if (
      !(Number.isFinite(from) || from === -Infinity) ||
      !(Number.isFinite(to) || to === Infinity) ||
      from >= to
    ) {
      throw new InvalidRequest('createdAt: give `from` < `to`, as epoch milliseconds.');
    }
    tests.push((r) => r.createdAt >= from && r.createdAt < to);
  }
  if (tests.length === 0 && !options.allowEmpty) {
    throw new InvalidRequest('A bulk change needs at least one filter criterion.');
  }
  return (record) => tests.every((test) => test(record));
}

type Comparator = '>=' | '<=' | '>' | '<' | '=';

/**
 * A version-range test. Versions compare like semver: numeric parts as numbers, a missing part is 0, and a
 * pre-release (`1.2.0-beta.1`) sorts before its release. A version that does not parse matches no range.
 * @example versionRange('>=1.2.0 <1.4.0')('1.3.9') // true
 */
export function versionRange(range: string | { min?: string; max?: string }): (version: string) => boolean {
  const bounds: Array<[Comparator, Version]> = [];
  if (typeof range === 'string') {
    const parts = range.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) throw new InvalidRequest('appVersion: the range is empty.');
    for (const part of parts) {
      const match = /^(>=|<=|>|<|=)?(.+)$/.exec(part)!;
      bounds.push([(match[1] ?? '=') as Comparator, checkedVersion(match[2]!)]);
    }
  } else {
    if (range.min === undefined && range.max === undefined)
      throw new InvalidRequest('appVersion: give min, max or both.');
    if (range.min !== undefined) bounds.push(['>=', checkedVersion(range.min)]);
    if (range.max !== undefined) bounds.push(['<', checkedVersion(range.max)]);
  }
  return (text) => {
    const version = parseVersion(text);
    if (!version) return false;
    return bounds.every(([op, bound]) => {
      const order = compareVersions(version, bound);
      return op === '>='
        ? order >= 0
        : op === '<='
          ? order <= 0
          : op === '>'
            ? order > 0
            : op === '<'
              ? order < 0
              : order === 0;
    });
  };
}

interface Version {
  release: number[];
  prerelease: string[];
}

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!match) return undefined;
  return { release: match[1]!.split('.').map(Number), prerelease: match[2] ? match[2].split('.') : [] };
}

function checkedVersion(text: string): Version {
  const version = parseVersion(text);
  if (!version) throw new InvalidRequest(`appVersion: "${text}" is not a version like 1.2.3.`);
  return version;
}

/** Negative, zero or positive, like a sort comparator. */
function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.release.length, b.release.length); i++) {
    const diff = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (diff !== 0) return diff;
  }
  // A release sorts after its pre-releases; pre-releases compare part by part (numbers before words).
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const [x, y] = [a.prerelease[i], b.prerelease[i]];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const [nx, ny] = [/^\d+$/.test(x) ? Number(x) : NaN, /^\d+$/.test(y) ? Number(y) : NaN];
    const diff =
      !isNaN(nx) && !isNaN(ny) ? nx - ny : !isNaN(nx) ? -1 : !isNaN(ny) ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * A test of whether an address lies in any of `cidrs`. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as a
 * dual-stack server reports IPv4 clients) match IPv4 ranges.
 * @example cidrMatcher(['203.0.113.0/24'])('203.0.113.7') // true
 */
export function cidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  if (cidrs.length === 0) throw new InvalidRequest('sourceCidr: give at least one CIDR.');
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix, extra] = cidr.trim().split('/');
    const version = isIP(address);
    const width = version === 4 ? 32 : 128;
    const bits = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (version === 0 || extra !== undefined || !(bits >= 0 && bits <= width)) {
      throw new InvalidRequest(`sourceCidr: "${cidr}" is not an IPv4 or IPv6 CIDR.`);
    }
    list.addSubnet(address, bits, version === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}
