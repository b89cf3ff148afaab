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

/** Body of `POST /v1/tokens`. */
export interface MintRequest {
  installId: string;
  app: AppIdentity;
  platform?: string;
  metadata?: Record<string, string>;
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
}

/** Reply of `POST /v1/tokens/{tokenId}/heartbeat`. */
export interface HeartbeatReply {
  status: HeartbeatStatus;
  heartbeatIntervalSeconds: number;
  expiresAt: string;
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
