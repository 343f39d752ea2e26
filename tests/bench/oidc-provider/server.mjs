// tests/bench/oidc-provider/server.mjs — panva's oidc-provider (the version pinned in
// package-lock.json), set up like one Renkei realm, as the reference for tests/bench/oidc.
//
// Run: NODE_ENV=production BENCH_OP_PORT=… BENCH_OP_CC_ID=… BENCH_OP_CC_SECRET=…
//      BENCH_OP_RP_ID=… BENCH_OP_RP_SECRET=… node server.mjs
// It listens on 127.0.0.1:BENCH_OP_PORT (one process; storage in process memory, adapter.mjs)
// and prints "listening" on stdout when it accepts requests. Issuer http://127.0.0.1:PORT.
//
// Set up as the hub's realm is:
//  - one ES256 (P-256) signing key, made at start; nothing else in the JWKS;
//  - client BENCH_OP_CC_ID: client_credentials only, client_secret_basic, scope bench.read;
//    its tokens are RFC 9068 JWT access tokens signed ES256 (features.resourceIndicators:
//    every token is for the resource urn:renkei:bench, whose getResourceServerInfo says
//    accessTokenFormat 'jwt'), 300 s, as the hub's;
//  - client BENCH_OP_RP_ID: authorization_code only, client_secret_basic, redirect URI
//    http://127.0.0.1:9/cb, PKCE S256; the code exchange answers an ES256 JWT access token
//    (for the same resource: useGrantedResource) and an ES256 ID token, no refresh token,
//    as the hub does for such a client. Like the hub's first_party clients it asks no
//    consent: loadExistingGrant grants the requested scopes after login;
//  - login: the library's devInteractions (any username; it checks no password — the
//    library leaves accounts to the application, so the login-storm rows are the hub's).
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

import BenchAdapter from './adapter.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`server.mjs: ${name} is required`);
    process.exit(2);
  }
  return value;
};

const port = Number(env('BENCH_OP_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'urn:renkei:bench';
const REDIRECT_URI = 'http://127.0.0.1:9/cb';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const configuration = {
  adapter: BenchAdapter,
  clients: [
    {
      client_id: env('BENCH_OP_CC_ID'),
      client_secret: env('BENCH_OP_CC_SECRET'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'bench.read',
    },
    {
      client_id: env('BENCH_OP_RP_ID'),
      client_secret: env('BENCH_OP_RP_SECRET'),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: 'openid bench.read',
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [jwk] },
  scopes: ['openid', 'bench.read'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  ttl: {
    AccessToken: 300,
    ClientCredentials: 300,
    IdToken: 300,
    AuthorizationCode: 60,
    Grant: 28800,
    Interaction: 1800,
    Session: 28800,
  },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'bench.read',
        audience: RESOURCE,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  // First-party client: the scopes asked are granted without a consent page.
  async loadExistingGrant(ctx) {
    const { provider, client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      return provider.Grant.find(grantId);
    }
    const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid bench.read');
    grant.addResourceScope(RESOURCE, 'bench.read');
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const server = provider.listen(port, '127.0.0.1', () => console.log('listening'));
server.keepAliveTimeout = 0; // keep connections for the whole run, as renkeid does
server.headersTimeout = 60_000;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
