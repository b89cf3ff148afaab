/**
 * The anomaly rules that read the audit trail (docs/anomalies.md). Pure: each takes one window's entries
 * and its threshold and returns what it found, with the evidence. The relay-volume rule reads the store
 * instead (relayVolume.ts). A rule fires when its count is MORE than the threshold.
 */
import type { AuditAction, AuditEntry } from '../audit';
import { networkOf } from '../network';
import type { AnomalyTarget } from './ports';
import type { AnomalyRuleName } from './settings';

/** A UTC-aligned span of time, `end` excluded. */
export interface AnomalyWindow {
  start: number;
  end: number;
}

/** Something a rule found, before anything is done about it. */
export interface Detection {
  rule: AnomalyRuleName;
  /** Names the subject uniquely within the rule (`network:203.0.113.0/24`): part of the action id. */
  subjectKey: string;
  /** The subject in words, for the audit trail and the reason: `network 203.0.113.0/24`. */
  subject: string;
  /** The period the evidence is about (the window; for relay volume, the UTC day): the action id's other part. */
  period: AnomalyWindow;
  target: AnomalyTarget;
  count: number;
  threshold: number;
  /** The count in words, for the reason: `57 installs minted`. */
  summary: string;
  /** Further facts, flat, for the audit entry (never a secret: ids, addresses, counts). */
  evidence: Record<string, string | number>;
  /** Indexes the audit entry under this token or install, where the detection is about one. */
  tokenId?: string;
  installId?: string;
  chainId?: string;
}

export interface AuditRule {
  name: Exclude<AnomalyRuleName, 'relay-volume'>;
  /** The only entries the rule looks at. */
  reads: readonly AuditAction[];
  detect(entries: readonly AuditEntry[], threshold: number, window: AnomalyWindow): Detection[];
}

/** At most this many chains (clients) are acted on per detection (the action's record lists their tokens). */
export const MAX_TARGET_CHAINS = 1000;
/** How many examples (addresses, networks, chains) the evidence names. */
const EXAMPLES = 5;

/** `a, b, c (+4 more)`: the first few of a list, most frequent first when counted. */
export function examples(values: Iterable<string>): string {
  const list = [...values];
  const shown = list.slice(0, EXAMPLES).join(', ');
  return list.length > EXAMPLES ? `${shown} (+${list.length - EXAMPLES} more)` : shown;
}

function groupBy<K>(entries: readonly AuditEntry[], key: (entry: AuditEntry) => K | undefined) {
  const groups = new Map<K, AuditEntry[]>();
  for (const entry of entries) {
    const k = key(entry);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(entry);
    else groups.set(k, [entry]);
  }
  return groups;
}

/** The network an entry came from (/24, /48), or its address when that is no IP address. */
const networkOfEntry = (entry: AuditEntry) =>
  entry.sourceIp ? (networkOf(entry.sourceIp) ?? entry.sourceIp) : undefined;

const distinct = (values: (string | undefined)[]) =>
  new Set(values.filter((value): value is string => value !== undefined));

/** The chains of entries (a mint starts one), oldest first, without repeats. */
const chainIdsOf = (entries: readonly AuditEntry[]) => [
  ...distinct(entries.map((entry) => entry.chainId ?? entry.tokenId)),
];

/** One address or network minting for many installs: a script farming tokens, or one credential shared. */
const mintsPerNetwork: AuditRule = {
  name: 'mints-per-network',
  reads: ['token.minted'],
  detect: (entries, threshold, window) => {
    const found: Detection[] = [];
    for (const [network, minted] of groupBy(entries, networkOfEntry)) {
      const installs = distinct(minted.map((entry) => entry.installId));
      if (installs.size <= threshold) continue;
      const perAddress = new Map<string, number>();
      for (const entry of minted) perAddress.set(entry.sourceIp!, (perAddress.get(entry.sourceIp!) ?? 0) + 1);
      const addresses = [...perAddress].sort((a, b) => b[1] - a[1]).map(([ip, n]) => `${ip} (${n})`);
      const chainIds = chainIdsOf(minted);
      found.push({
        rule: 'mints-per-network',
        subjectKey: `network:${network}`,
        subject: `network ${network}`,
        period: window,
        target: { kind: 'chains', chainIds: chainIds.slice(0, MAX_TARGET_CHAINS) },
        count: installs.size,
        threshold,
        summary: `${installs.size} installs minted from ${network}`,
        evidence: { network, installs: installs.size, mints: minted.length, addresses: examples(addresses) },
      });
    }
    return found;
  },
};

/** One install seen from many networks at once: its cached credential was copied. */
const installNetworks: AuditRule = {
  name: 'install-networks',
  reads: ['token.minted', 'token.refreshed'],
  detect: (entries, threshold, window) => {
    const found: Detection[] = [];
    for (const [installId, seen] of groupBy(entries, (entry) => entry.installId)) {
      const networks = distinct(seen.map(networkOfEntry));
      if (networks.size <= threshold) continue;
      found.push({
        rule: 'install-networks',
        subjectKey: `install:${installId}`,
        subject: `install ${installId}`,
        period: window,
        target: { kind: 'install', installId },
        count: networks.size,
        threshold,
        summary: `install seen from ${networks.size} networks`,
        evidence: { networks: networks.size, requests: seen.length, seenFrom: examples(networks) },
        installId,
      });
    }
    return found;
  },
};

/** One chain refreshed over and over: a client stuck in a loop, or two holders taking turns. */
const refreshStorm: AuditRule = {
  name: 'refresh-storm',
  reads: ['token.refreshed'],
  detect: (entries, threshold, window) => {
    const found: Detection[] = [];
    for (const [chainId, refreshed] of groupBy(entries, (entry) => entry.chainId)) {
      if (refreshed.length <= threshold) continue;
      const newest = refreshed.reduce((a, b) => (b.at >= a.at ? b : a)); // entries come oldest first
      found.push({
        rule: 'refresh-storm',
        subjectKey: `chain:${chainId}`,
        subject: `chain ${chainId}`,
        period: window,
        target: { kind: 'chains', chainIds: [chainId] },
        count: refreshed.length,
        threshold,
        summary: `${refreshed.length} refreshes of one chain`,
        evidence: { refreshes: refreshed.length, newestTokenId: newest.tokenId ?? '' },
        chainId,
        installId: newest.installId,
      });
    }
    return found;
  },
};

/** A token that went past its hourly heartbeat quota (core/heartbeat.ts records the first refusal of each hour). */
const heartbeatStorm: AuditRule = {
  name: 'heartbeat-storm',
  reads: ['token.heartbeat_quota_exceeded'],
  detect: (entries, threshold, window) => {
    const found: Detection[] = [];
    for (const [tokenId, exceeded] of groupBy(entries, (entry) => entry.tokenId)) {
      if (exceeded.length <= threshold) continue;
      const limit = exceeded[0]!.details?.limit;
      found.push({
        rule: 'heartbeat-storm',
        subjectKey: `token:${tokenId}`,
        subject: `token ${tokenId}`,
        period: window,
        target: { kind: 'token', tokenId },
        count: exceeded.length,
        threshold,
        summary: `heartbeat quota (${String(limit)} an hour) exceeded ${exceeded.length} time(s)`,
        evidence: { quotaExceeded: exceeded.length, heartbeatsPerHourLimit: Number(limit ?? 0) },
        tokenId,
        installId: exceeded[0]!.installId,
        chainId: exceeded[0]!.chainId,
      });
    }
    return found;
  },
};

/** A spent client secret presented again: reuse detection revoked the chain; the install is suspect. */
const secretReuse: AuditRule = {
  name: 'secret-reuse',
  reads: ['token.reuse_detected'],
  detect: (entries, threshold, window) => {
    const found: Detection[] = [];
    for (const [installId, reused] of groupBy(entries, (entry) => entry.installId)) {
      if (reused.length <= threshold) continue;
      const chains = distinct(reused.map((entry) => entry.chainId));
      found.push({
        rule: 'secret-reuse',
        subjectKey: `install:${installId}`,
        subject: `install ${installId}`,
        period: window,
        target: { kind: 'install', installId },
        count: reused.length,
        threshold,
        summary: `${reused.length} reuse(s) of spent client secrets`,
        evidence: {
          reuses: reused.length,
          chains: examples(chains),
          from: examples(distinct(reused.map((entry) => entry.sourceIp))),
        },
        installId,
      });
    }
    return found;
  },
};

export const AUDIT_RULES: readonly AuditRule[] = [
  mintsPerNetwork,
  installNetworks,
  refreshStorm,
  heartbeatStorm,
  secretReuse,
];
