// identity_registration.mjs — dynamic client registration (RFC 7591, OpenID Connect Dynamic
// Registration) and private_key_jwt client authentication (RFC 7523) of the hub's realms,
// driven by openid-client (dynamicClientRegistration, PrivateKeyJwt) with keys made by jose.
//
// Covers: initial access tokens from the admin API and their uses; a registered
// private_key_jwt client running client_credentials, introspection, the authorization code
// flow with consent, refresh and revocation; a replayed assertion (same jti) and assertions
// the hub must not accept (another key, HS256 keyed with the public key, a far exp, a foreign
// aud, a secret beside the assertion); refused metadata naming its member without spending
// the token's use; a secret client registered the same way.
//
// Environment: HUB (base URL), ADMIN_TOKEN.
import * as client from 'openid-client';
import * as jose from 'jose';
import test from 'node:test';
import assert from 'node:assert/strict';
import { codeFlow } from './lib/oidc_browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const hub = env('HUB');
const adminToken = env('ADMIN_TOKEN');
const insecure = { execute: [client.allowInsecureRequests] };
const REDIRECT = 'http://127.0.0.1:9/cb';
const REALM = 'kodaira';
const issuer = `${hub}/t/${REALM}`;
const PASSWORD = 'correct horse battery staple';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const { signIn } = codeFlow(hub, REDIRECT);

async function post(path, body, headers = {}) {
  const res = await fetch(`${hub}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const asAdmin = { authorization: `Bearer ${adminToken}` };

async function registrationToken(body = {}) {
  const res = await post(`/admin/v1/realms/${REALM}/registration-tokens`, body, asAdmin);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

const register = (token, metadata) =>
  post(`/t/${REALM}/register`, metadata, token ? { authorization: `Bearer ${token}` } : {});

// The token endpoint with a hand-made client assertion.
async function tokenWithAssertion(assertion, extra = {}) {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(extra.headers || {}) },
    body: new URLSearchParams({
      grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion, ...(extra.form || {}),
    }),
  });
  return { status: res.status, json: await res.json() };
}

let keys; let publicJwk; let registered; let config;

// An assertion as a client makes it, with claims and header overridable.
function assertion(claims = {}, header = {}, key = keys.privateKey) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header })
    .setIssuer(claims.iss ?? registered.client_id)
    .setSubject(claims.sub ?? registered.client_id)
    .setAudience(claims.aud ?? `${issuer}/token`)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .sign(key);
}

test.before(async () => {
  const made = await post(`/admin/v1/realms/${REALM}/users`, { username: 'jiro', password: PASSWORD },
    asAdmin);
  assert.equal(made.status, 201, JSON.stringify(made.json));
  keys = await jose.generateKeyPair('ES256');
  publicJwk = { ...(await jose.exportJWK(keys.publicKey)), kid: 'k1', use: 'sig', alg: 'ES256' };
});

test('discovery announces registration and private_key_jwt', async () => {
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.registration_endpoint, `${issuer}/register`);
  for (const endpoint of ['token', 'introspection', 'revocation']) {
    assert.ok(meta[`${endpoint}_endpoint_auth_methods_supported`].includes('private_key_jwt'));
    assert.deepEqual(meta[`${endpoint}_endpoint_auth_signing_alg_values_supported`],
      ['ES256', 'RS256', 'PS256']);
  }
});

test('initial access tokens come from the admin API only', async () => {
  let res = await post(`/admin/v1/realms/${REALM}/registration-tokens`, {});
  assert.equal(res.status, 401);
  res = await post(`/admin/v1/realms/${REALM}/registration-tokens`, { uses: 0 }, asAdmin);
  assert.equal(res.status, 400);
  assert.match(res.json.message, /^uses: /);
  res = await post(`/admin/v1/realms/${REALM}/registration-tokens`, { ttl: 31 * 86400 }, asAdmin);
  assert.match(res.json.message, /^ttl: /);
  res = await post(`/admin/v1/realms/${REALM}/registration-tokens`, { scope: 'x' }, asAdmin);
  assert.match(res.json.message, /^scope: unknown field/);
  res = await post('/admin/v1/realms/nowhere/registration-tokens', {}, asAdmin);
  assert.equal(res.status, 404);
  const made = await registrationToken({ ttl: 600, uses: 3 });
  assert.match(made.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(made.uses, 3);
  const ttl = (Date.parse(made.expires_at) - Date.now()) / 1000;
  assert.ok(ttl > 590 && ttl <= 601, `expires_at ${made.expires_at}`);
});

test('openid-client registers a private_key_jwt client and uses it', async () => {
  const iat = await registrationToken();
  assert.equal(iat.uses, 1, 'one use by default');
  config = await client.dynamicClientRegistration(new URL(issuer), {
    client_name: 'Registered library app',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [publicJwk] },
    scope: 'openid profile email offline_access library.read',
    id_token_signed_response_alg: 'ES256',
    logo_uri: 'https://app.example/logo.png', // unknown to the hub: ignored (RFC 7591 §2)
    first_party: true, // an admin API field, not client metadata: ignored too
  }, client.PrivateKeyJwt({ key: keys.privateKey, kid: 'k1' }),
  { initialAccessToken: iat.token, ...insecure });
  registered = config.clientMetadata();
  assert.match(registered.client_id, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(registered.client_secret, undefined, 'private_key_jwt clients have no secret');
  assert.equal(registered.token_endpoint_auth_method, 'private_key_jwt');
  assert.deepEqual(registered.response_types, ['code']);
  assert.deepEqual(registered.jwks.keys[0].kid, 'k1');
  assert.equal(registered.id_token_signed_response_alg, 'ES256');
  assert.equal(registered.client_name, 'Registered library app');
  assert.equal(registered.logo_uri, undefined, 'the answer holds only what was registered');
  assert.ok(Math.abs(registered.client_id_issued_at - Date.now() / 1000) < 60);

  const listed = await (await fetch(`${hub}/admin/v1/realms/${REALM}/clients`, { headers: asAdmin })).json();
  const stored = listed.clients.find((c) => c.client_id === registered.client_id);
  assert.equal(stored.first_party, false, 'registered clients are third-party');
  assert.equal(stored.token_endpoint_auth_method, 'private_key_jwt');

  const cc = await client.clientCredentialsGrant(config, { scope: 'library.read' });
  const jwks = jose.createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const { payload } = await jose.jwtVerify(cc.access_token, jwks, { issuer, typ: 'at+jwt' });
  assert.equal(payload.sub, registered.client_id);
  assert.equal(payload.scope, 'library.read');
  const introspected = await client.tokenIntrospection(config, cc.access_token);
  assert.equal(introspected.active, true, 'introspection takes private_key_jwt');

  const { tokens } = await signIn({ config }, REALM, 'jiro', PASSWORD, { consent: true });
  assert.equal(tokens.claims().aud, registered.client_id);
  assert.equal(tokens.claims().iss, issuer);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, tokens.claims().sub);
  await client.tokenRevocation(config, refreshed.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token),
    (e) => e.error === 'invalid_grant', 'revoked with private_key_jwt');

  const again = await register(iat.token, { redirect_uris: [REDIRECT] });
  assert.equal(again.status, 401, 'a one-use token registers once');
  assert.equal(again.json.error, 'invalid_token');
  assert.match(again.headers.get('www-authenticate'), /^Bearer /);
});

test('a replayed assertion is refused, and so are assertions the hub must not trust', async () => {
  const once = await assertion({ jti: 'used-once' });
  let res = await tokenWithAssertion(once);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  res = await tokenWithAssertion(once);
  assert.equal(res.status, 401);
  assert.equal(res.json.error, 'invalid_client');
  assert.match(res.json.error_description, /jti was used before/);

  const other = await jose.generateKeyPair('ES256');
  res = await tokenWithAssertion(await assertion({}, {}, other.privateKey));
  assert.equal(res.json.error, 'invalid_client', 'signed by a key the client did not register');
  assert.match(res.json.error_description, /signature/);

  const hmacKey = new TextEncoder().encode(JSON.stringify(publicJwk));
  res = await tokenWithAssertion(await assertion({}, { alg: 'HS256' }, hmacKey));
  assert.equal(res.json.error, 'invalid_client', 'HS256 keyed with the public key');
  assert.match(res.json.error_description, /alg must be ES256, RS256 or PS256/);

  const now = Math.floor(Date.now() / 1000);
  res = await tokenWithAssertion(await assertion({ exp: now + 3600 }));
  assert.match(res.json.error_description, /exp must be at most 300 seconds ahead/);
  res = await tokenWithAssertion(await assertion({ aud: `${hub}/t/chofu/token` }));
  assert.match(res.json.error_description, /aud must hold/);
  res = await tokenWithAssertion(await assertion({ aud: issuer }));
  assert.equal(res.status, 200, 'the issuer is an audience too');

  res = await tokenWithAssertion(await assertion(), { form: { client_secret: 'x' } });
  assert.equal(res.status, 400, 'one authentication method per request');
  assert.equal(res.json.error, 'invalid_request');
  res = await tokenWithAssertion(await assertion(), { form: { client_assertion_type: 'jwt' } });
  assert.match(res.json.error_description, /^client_assertion_type: /);
});

test('bad metadata is refused naming the member, and spends no use', async () => {
  const iat = await registrationToken();
  const good = { redirect_uris: [REDIRECT] };
  const cases = [
    [{ redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri', /^redirect_uris\[0\]: /],
    [{ grant_types: ['client_credentials'], response_types: ['code'] }, 'invalid_client_metadata',
      /^response_types: code needs the authorization_code grant/],
    [{ ...good, jwks_uri: 'https://app.example/jwks' }, 'invalid_client_metadata', /^jwks_uri: not supported/],
    [{ ...good, sector_identifier_uri: 'https://app.example/sector' }, 'invalid_client_metadata',
      /^sector_identifier_uri: not supported: this hub does not fetch it/],
    [{ ...good, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', /^jwks: is required/],
    [{ ...good, token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicJwk, d: 'secret' }] } }, 'invalid_client_metadata',
    /^jwks\.keys\[0\]: must be a public key/],
    [{ ...good, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] },
      token_endpoint_auth_signing_alg: 'RS256' }, 'invalid_client_metadata',
    /^token_endpoint_auth_signing_alg: jwks\.keys\[0\] cannot sign with RS256/],
    [{ ...good, token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata',
      /^token_endpoint_auth_method: /],
    [{ ...good, response_types: ['code', 'id_token'] }, 'invalid_client_metadata', /^response_types: /],
    [{ ...good, scope: 'openid  profile' }, 'invalid_client_metadata', /^scope: /],
    [{ ...good, id_token_signed_response_alg: 'none' }, 'invalid_client_metadata',
      /^id_token_signed_response_alg: /],
    [{ ...good, grant_types: ['authorization_code', 'password'] }, 'invalid_client_metadata', /^grant_types: /],
    [{ ...good, client_name: '' }, 'invalid_client_metadata', /^client_name: /],
    [{ ...good, subject_type: 'global' }, 'invalid_client_metadata', /^subject_type: /],
    [{ grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'none' },
      'invalid_client_metadata', /^token_endpoint_auth_method: none .*cannot use client_credentials/],
  ];
  for (const [metadata, error, description] of cases) {
    const res = await register(iat.token, metadata);
    assert.equal(res.status, 400, JSON.stringify(metadata));
    assert.equal(res.json.error, error, JSON.stringify(res.json));
    assert.match(res.json.error_description, description);
  }
  let res = await post(`/t/${REALM}/register`, '{"redirect_uris": [', { authorization: `Bearer ${iat.token}` });
  assert.match(res.json.error_description, /^body: line 1/);

  for (const token of [undefined, 'A'.repeat(43), `${iat.token}x`]) {
    res = await register(token, { redirect_uris: ['http://app.example/cb'] });
    assert.equal(res.status, 401, 'without a live token even bad metadata is 401');
    assert.equal(res.json.error, 'invalid_token');
  }

  res = await register(iat.token, good);
  assert.equal(res.status, 201, `the use is still there: ${JSON.stringify(res.json)}`);
  assert.equal(res.json.token_endpoint_auth_method, 'client_secret_basic', 'RFC 7591 default');
  assert.deepEqual(res.json.grant_types, ['authorization_code'], 'RFC 7591 default');
});

test('two registrations racing for the last use: one wins', async () => {
  for (let round = 0; round < 5; round++) {
    const iat = await registrationToken();
    const answers = await Promise.all([1, 2, 3].map(() => register(iat.token, { redirect_uris: [REDIRECT] })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 401, 401]);
  }
});

test('a secret client registers too, and a private_key_jwt assertion is not its way in', async () => {
  const iat = await registrationToken({ uses: 2 });
  const res = await register(iat.token, {
    client_name: '調布市 施設予約 連携', grant_types: ['client_credentials'], response_types: [],
    token_endpoint_auth_method: 'client_secret_post', scope: 'facility.read',
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.match(res.json.client_secret, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(res.json.client_secret_expires_at, 0);
  assert.deepEqual(res.json.response_types, []);
  assert.equal(res.json.client_name, '調布市 施設予約 連携');
  const rp = await client.discovery(new URL(issuer), res.json.client_id, res.json.client_secret,
    client.ClientSecretPost(res.json.client_secret), insecure);
  const cc = await client.clientCredentialsGrant(rp, { scope: 'facility.read' });
  assert.ok(cc.access_token);

  const forged = await new jose.SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(res.json.client_id).setSubject(res.json.client_id).setAudience(issuer)
    .setIssuedAt().setExpirationTime('1m').sign(keys.privateKey);
  const refused = await tokenWithAssertion(forged);
  assert.equal(refused.status, 401);
  assert.match(refused.json.error_description, /does not authenticate with private_key_jwt/);
});
