import {
  hashSecret,
  idempotencyRecordKey,
  isTokenId,
  newClientSecret,
  newTokenId,
  openReply,
  sealReply,
  secretMatches,
} from './credentials';

describe('client secrets', () => {
  it('carry at least 256 random bits and never repeat', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => newClientSecret()));
    expect(secrets.size).toBe(1000);
    const [one] = [...secrets];
    expect(Buffer.from(one!.replace(/^lfb_cs_/, ''), 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it('are stored as a hash that does not contain the secret', () => {
    const secret = newClientSecret();
    const hash = hashSecret(secret);
    expect(hash).not.toContain(secret.slice(7, 20));
    expect(secretMatches(secret, hash)).toBe(true);
  });

  it('do not match a hash of another secret, a truncated hash or garbage', () => {
    const secret = newClientSecret();
    expect(secretMatches(newClientSecret(), hashSecret(secret))).toBe(false);
    expect(secretMatches(secret, hashSecret(secret).slice(0, 20))).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
  });
});

describe('token ids', () => {
  it('are recognised when made by the broker and refused otherwise', () => {
    expect(isTokenId(newTokenId())).toBe(true);
    for (const odd of [
      '',
      'tok_',
      '../etc/passwd',
      'tok_%00',
      `${newTokenId()}x`,
      'TOK_aaaaaaaaaaaaaaaaaaaaaa',
    ]) {
      expect(isTokenId(odd)).toBe(false);
    }
  });
});

describe('sealed idempotent replies', () => {
  const reply = { tokenId: 'tok_x', writeToken: 'wt-secret', clientSecret: 'cs-secret' };

  it('open with the same install id and Idempotency-Key', () => {
    const sealed = sealReply(reply, 'install-1', 'key-0123456789abcdef');
    expect(openReply(sealed, 'install-1', 'key-0123456789abcdef')).toEqual(reply);
  });

  it('keep the write token and the client secret unreadable without the key', () => {
    const sealed = sealReply(reply, 'install-1', 'key-0123456789abcdef');
    const decoded = Buffer.from(sealed, 'base64url').toString('latin1');
    expect(decoded).not.toContain('wt-secret');
    expect(decoded).not.toContain('cs-secret');
    expect(openReply(sealed, 'install-1', 'another-key-0123456')).toBeUndefined();
    expect(openReply(sealed, 'install-2', 'key-0123456789abcdef')).toBeUndefined();
  });

  it('refuse a tampered copy', () => {
    const sealed = Buffer.from(sealReply(reply, 'i', 'key-0123456789abcdef'), 'base64url');
    sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 1, sealed.length - 1);
    expect(openReply(sealed.toString('base64url'), 'i', 'key-0123456789abcdef')).toBeUndefined();
  });

  it('are filed under a key that differs per install and per Idempotency-Key', () => {
    const a = idempotencyRecordKey('install-1', 'key-0123456789abcdef');
    expect(a).toBe(idempotencyRecordKey('install-1', 'key-0123456789abcdef'));
    expect(a).not.toBe(idempotencyRecordKey('install-2', 'key-0123456789abcdef'));
    expect(a).not.toContain('key-0123456789abcdef');
  });
});
