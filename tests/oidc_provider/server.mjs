// A real OpenID Connect provider for the sign-in tests: panva's oidc-provider (OpenID certified)
// with its development login pages. Any login name is an account whose subject is that name;
// the accounts below carry claims. Configured by environment: PORT, REDIRECT_URI, LOGOUT_URI,
// CLIENT_SECRET, ID_TOKEN_TTL (seconds). Prints "ready <issuer>" when it listens.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = {
  'fiia': { email: 'fiia@example.fi', email_verified: true, name: 'Fiia Fasilitaattori', groups: ['staff'] },
  'leo': { email: 'leo@example.fi', email_verified: true, name: 'Leo Lead', groups: ['staff', 'kohtaamo-leads'] },
  'unverified': { email: 'fiia@example.fi', email_verified: false, name: 'Not Verified', groups: [] },
  'stranger': { email: 'stranger@example.fi', email_verified: true, name: 'Uusi Ihminen', groups: ['staff'] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'kohtaamo',
    client_secret: process.env.CLIENT_SECRET || 'test-client-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.LOGOUT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  async findAccount(ctx, id) {
    const claims = accounts[id] || { email: `${id}@unknown.example`, email_verified: false, name: id, groups: [] };
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 3600) },
  // The ID token carries the claims itself (no userinfo call needed by the client).
  conformIdTokenClaims: false,
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
