/**
 * HTTP contract v1 (DESIGN §3): the request and reply bodies of the public routes.
 * `client/` imports this module with `import type` only, so the client never bundles server code.
 */

/** What a heartbeat tells the client to do next. */
export type HeartbeatStatus = 'active' | 'paused' | 'rotate' | 'revoked';

export interface AppIdentity {
  name: string;
  version: string;
}

/** The client library that mints, e.g. `logfire-broker-client` `0.1.0` (for `minClientVersion`). */
export interface ClientLibrary {
  name: string;
  version: string;
}

/** Body of `POST /v1/tokens`. */
export interface MintRequest {
  installId: string;
  app: AppIdentity;
  platform?: string;
  metadata?: Record<string, string>;
  /** Kept with the token, so heartbeats can judge `minClientVersion` without a body. */
  client?: ClientLibrary;
}

/**
 * What the operator's remote client settings say for the caller (docs/admin-api.md): whether to send
 * telemetry at all, and which share of traces to keep. With no rule: `{telemetry: 'on', sampleRate: 1}`.
 */
export interface ClientSettings {
  telemetry: 'on' | 'off';
  /** 0 to 1: the ratio of traces to sample (0 whenever telemetry is off). */
  sampleRate: number;
  /** Why telemetry is off: the operator's kill switch, or a client library older than `minClientVersion`. */
  reason?: 'kill_switch' | 'client_outdated';
  /** With `client_outdated`: the lowest client-library version the operator lets send. */
  minClientVersion?: string;
}

/**
 * One remote-settings rule (`GET`/`PUT /v1/admin/settings`): for an app (`*`: every app) and optionally a
 * semver range of its versions, the settings it sets; for each setting the most specific rule wins.
 */
export interface ClientSettingsRule {
  app: string;
  versions?: string;
  telemetry?: 'on' | 'off';
  sampleRate?: number;
  minClientVersion?: string;
}

/** Reply of `POST /v1/tokens` (201) and `POST /v1/tokens/{tokenId}/refresh` (200). */
export interface IssuedToken {
  tokenId: string;
  /** The Logfire write token; send it as `Authorization: <writeToken>` to the ingest base URL. */
  writeToken: string;
  /** Proves ownership of this token at heartbeat and refresh (`Authorization: Bearer <clientSecret>`). */
  clientSecret: string;
  expiresAt: string;
  refreshAfter: string;
  heartbeatIntervalSeconds: number;
  ingest: { baseUrl: string };
  /** The remote client settings that apply to this app, version and client (always sent by this broker). */
  settings?: ClientSettings;
}

/** Reply of `POST /v1/tokens/{tokenId}/heartbeat`. */
export interface HeartbeatReply {
  status: HeartbeatStatus;
  heartbeatIntervalSeconds: number;
  expiresAt: string;
  /** As in the mint reply: the settings in force now (always sent by this broker). */
  settings?: ClientSettings;
}

/** Reply of `POST /v1/tokens/{tokenId}/revoke` (self-revoke): the caller's chain is revoked. */
export interface SelfRevokeReply {
  status: 'revoked';
}

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'conflict'
  | 'idempotency_key_reused'
  | 'quota_exceeded'
  | 'upstream_unavailable'
  | 'internal_error'
  // The admin API's second factor (docs/admin-api.md).
  | 'otp_required'
  | 'otp_invalid'
  | 'otp_locked'
  | 'otp_not_configured';

/** Every error reply: `{"error":{"code","message"}}`. */
export interface ErrorReply {
  error: { code: ErrorCode; message: string };
}
