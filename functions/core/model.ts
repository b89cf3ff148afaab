/**
 * The token record: what the broker remembers about one write token it handed out (DESIGN §4).
 * The write token itself is never stored; the client secret only as a SHA-256 hash.
 * Times are epoch milliseconds.
 */

/**
 * - `active`: in use.
 * - `paused`: held by an admin; heartbeats answer `paused`, refresh is refused.
 * - `rotate`: due for rotation; heartbeats answer `rotate` until the client refreshes.
 * - `refreshing`: a refresh holds the record while it mints the successor (a few hundred ms).
 * - `refreshed`: replaced by its successor; the upstream token lives on for the rotation grace period.
 * - `superseded`: replaced, and its upstream token is gone.
 * - `revoked`: withdrawn by an admin, a sweep, or reuse detection.
 * - `expired`: past `expiresAt`.
 */
export const TOKEN_STATUSES = [
  'active',
  'paused',
  'rotate',
  'refreshing',
  'refreshed',
  'superseded',
  'revoked',
  'expired',
] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];

/** Statuses in which the client secret is still the valid credential. */
export const LIVE_STATUSES: readonly TokenStatus[] = ['active', 'paused', 'rotate'];

/** Statuses after which a token never changes again (except the upstream-deletion bookkeeping). */
export const TERMINAL_STATUSES: readonly TokenStatus[] = ['revoked', 'superseded', 'expired'];

/** Statuses from which a refresh may start. */
export const REFRESHABLE_STATUSES: readonly TokenStatus[] = ['active', 'rotate'];

export type UpstreamKind = 'api-key' | 'user-token' | 'dev';

export interface TokenRecord {
  tokenId: string;
  /** Shared by a token and all the tokens refreshed from it; reuse detection revokes a whole chain. */
  chainId: string;
  /** The token this one was refreshed from. */
  parentId?: string;
  /** The token that replaced this one at refresh. */
  successorId?: string;
  /** Logfire's id of the write token (API-key mode); absent where Logfire gives none (user-token mode). */
  upstreamId?: string;
  /**
   * The start of the write token as Logfire's UI and list show it (`token_prefix`): how an operator matches a
   * token in Logfire to this record. Absent where Logfire gives none (user-token mode).
   */
  tokenPrefix?: string;
  upstreamKind: UpstreamKind;
  installId: string;
  appName: string;
  appVersion: string;
  platform?: string;
  metadata?: Record<string, string>;
  /** The client library that minted the chain (the mint body's `client`), for `minClientVersion`. */
  clientName?: string;
  clientVersion?: string;
  sourceIp: string;
  /**
   * Set when `BROKER_BIND_TOKENS_TO_NETWORK` is on: the network (`networkOf(sourceIp)`, /24 or /48) the token
   * was minted from; heartbeat, refresh and the relay refuse requests from elsewhere (403).
   */
  boundNetwork?: string;
  userAgent?: string;
  createdAt: number;
  expiresAt: number;
  refreshAfter: number;
  lastHeartbeatAt?: number;
  status: TokenStatus;
  statusReason?: string;
  updatedAt: number;
  /** SHA-256 of the client secret, base64url. */
  secretHash: string;
  /**
   * While `refreshing`: the successor the refresh is issuing (chosen at claim time, so a takeover knows what
   * a crashed refresh may have stored), until when the claim is leased, and the status it started from. A
   * claim past its lease was left by a crash; the next refresh with the same secret takes it over.
   */
  refreshSuccessorId?: string;
  refreshLeaseUntil?: number;
  refreshFrom?: TokenStatus;
  /** When it became `refreshed`; the refresh grace counts from here. */
  refreshedAt?: number;
  /**
   * The successor's reply, encrypted under a key derived from this token's client secret (which the store
   * never has), so the just-spent secret can fetch it again within the grace and the table alone reveals
   * nothing. Removed once the token is superseded or revoked.
   */
  sealedSuccessor?: string;
  /**
   * Relay mode: SHA-256 of the token's relay token (`lfb_rt_<tokenId>.<secret>`), the `writeToken` the client
   * sends to the broker's ingest instead of a Logfire token. Absent in direct mode.
   */
  relayTokenHash?: string;
  /** Relay mode: every request and byte this token relayed, and when it last did (for the anomaly rules). */
  relayRequestsTotal?: number;
  relayBytesTotal?: number;
  relayLastAt?: number;
}
