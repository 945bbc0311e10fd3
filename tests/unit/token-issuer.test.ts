import { describe, expect, it } from 'vitest';
import { InvalidTokenError, TokenIssuer } from '../../src/gateway/token-issuer.js';

describe('TokenIssuer', () => {
  const issuer = new TokenIssuer('s'.repeat(40));

  it('signs and verifies subject and scopes', async () => {
    const token = await issuer.sign('alice', { scopes: ['tasks:read'] });
    expect(await issuer.verify(token)).toMatchObject({ subject: 'alice', scopes: ['tasks:read'] });
    // A second verify of the same token (served from the cache) gives the same answer.
    expect(await issuer.verify(token)).toMatchObject({ subject: 'alice', scopes: ['tasks:read'] });
  });

  it('rejects a token signed with another secret, a tampered one and garbage', async () => {
    const other = await new TokenIssuer('o'.repeat(40)).sign('alice');
    await expect(issuer.verify(other)).rejects.toThrow(InvalidTokenError);
    // The usual reason, said in the answer: a token made for another devbot's data directory.
    await expect(issuer.verify(other)).rejects.toThrow(
      /not valid: tokens signed for another devbot \(another DEVBOT_DATA_DIR or DEVBOT_JWT_SECRET\) do not work here/,
    );
    const good = await issuer.sign('alice');
    const [h, , sig] = good.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ sub: 'root', scope: 'admin', iss: 'devbot', aud: 'devbot-api' }),
    ).toString('base64url');
    await expect(issuer.verify(`${h}.${forgedPayload}.${sig}`)).rejects.toThrow(/not valid/);
    await expect(issuer.verify('garbage')).rejects.toThrow(InvalidTokenError);
  });

  it('rejects an expired token, even after it was verified and cached', async () => {
    // Two seconds: `exp` counts whole seconds from a rounded-down `iat`, so a one-second token
    // signed at the end of a second is already expired when verified at once.
    const token = await issuer.sign('bob', { ttlSeconds: 2 });
    expect((await issuer.verify(token)).subject).toBe('bob');
    await new Promise((r) => setTimeout(r, 2100));
    await expect(issuer.verify(token)).rejects.toThrow(/expired/);
  });
});

describe('TokenIssuer ids, default expiry and revocation', () => {
  it('gives every token an id and a 30-day expiry unless told otherwise', async () => {
    const issuer = new TokenIssuer('s'.repeat(40));
    const a = await issuer.issue('alice');
    const b = await issuer.issue('alice');
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[\w-]{16}$/);
    const days = ((a.expiresAt?.getTime() ?? 0) - a.issuedAt.getTime()) / 86_400_000;
    expect(days).toBe(30);
    expect(await issuer.verify(a.token)).toMatchObject({ subject: 'alice', id: a.id });
    const forever = await issuer.issue('svc', { ttlSeconds: null });
    expect(forever.expiresAt).toBeNull();
    expect((await issuer.verify(forever.token)).expiresAt).toBeUndefined();
  });

  it('refuses a revoked token at its next request, even one it verified and cached before', async () => {
    const revoked = new Set<string>();
    const issuer = new TokenIssuer('s'.repeat(40), { revoked });
    const { token, id } = await issuer.issue('alice');
    expect((await issuer.verify(token)).subject).toBe('alice');
    revoked.add(id);
    await expect(issuer.verify(token)).rejects.toThrow(/the token was revoked/);
    // Another token of the same subject is not touched.
    const other = await issuer.issue('alice');
    expect((await issuer.verify(other.token)).id).toBe(other.id);
  });
});
