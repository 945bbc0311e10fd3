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
