/**
 * What Logfire's keys and tokens look like, in the one place that knows: API keys, user tokens, write and
 * read tokens all share `pylf_v<n>_<region>_<secret>`, and v2 puts the organization's id before the
 * secret (`pylf_v2_us_<org-uuid>_<secret>`, DESIGN §5). Used to keep them out of logs and errors, and to
 * name a write token by its harmless start.
 */

const UUID = '(?:[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}|[0-9a-f]{32})';

/**
 * Secret characters a token keeps in its public prefix. pydantic/logfire's own client prints a token as
 * its `pylf_v<n>_<region>_` part and 5 characters (`auth.py`, `UserToken.__str__`).
 */
const PREFIX_SECRET_CHARS = 5;

/**
 * Anything token-shaped with at least 12 secret characters. A shorter tail (a token prefix such as
 * `pylf_v1_us_AbCdE`, which Logfire itself shows in its UI and list) is no secret and stays readable.
 * The lookahead keeps a v2 prefix from matching by counting its org id as secret.
 */
const TOKEN_SHAPED = new RegExp(`pylf_v\\d+_[a-z]+_(?:${UUID}_|(?!${UUID}_))[A-Za-z0-9_-]{12,}`, 'gi');

const PUBLIC_PART = new RegExp(`^pylf_v\\d+_[a-z]+_(?:${UUID}_)?`, 'i');

/**
 * Removes the given secrets, and anything shaped like a Logfire key or token, from text bound for a log
 * or an error.
 * @example redact('bad key pylf_v1_us_0123456789abcdef', []) // 'bad key [redacted]'
 * @example redact('Bearer sekrit-value', ['sekrit-value']) // 'Bearer [redacted]'
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let clean = text;
  for (const secret of secrets) {
    if (secret.length >= 4) clean = clean.split(secret).join('[redacted]');
  }
  return clean.replace(TOKEN_SHAPED, '[redacted]');
}

/**
 * The start of a write token that is safe to log and that Logfire's UI shows: its public part and the
 * first 5 secret characters, the way Logfire's own client prints tokens. For the user-token mode, where
 * Logfire returns no `token_prefix`.
 * @example tokenPrefixOf('pylf_v1_us_AbCdEfGhIj...') // 'pylf_v1_us_AbCdE'
 */
export function tokenPrefixOf(token: string): string {
  const publicPart = PUBLIC_PART.exec(token)?.[0] ?? '';
  return token.slice(0, publicPart.length + PREFIX_SECRET_CHARS);
}
