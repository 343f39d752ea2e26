// identity_oidc.mjs — certified clients nobody here wrote against a realm of the hub:
// openid-client (discovery, client_credentials with client_secret_basic and _post, token
// introspection) and jose (JWKS fetched by URL, RFC 9068 access token verification). Also
// checks with the realm's real key — opened here from its database row with the master key,
// which proves the sealing is plain AES-256-GCM — that an expired token is inactive, and that
// "none" and HS256-with-the-public-key forgeries are refused.
//
// Environment: HUB (base URL), ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET (a kodaira client with
// scope library.read), MASTER_KEY (hex), ACTIVE_KID and SEALED_HEX (kodaira's active key row).
import * as client from 'openid-client';
import * as jose from 'jose';
import { createDecipheriv } from 'node:crypto';
import test from 'node:test';
import assert from 'node:assert/strict';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const hub = env('HUB');
const issuer = `${hub}/t/kodaira`;
const clientId = env('CLIENT_ID');
const clientSecret = env('CLIENT_SECRET');
const insecure = { execute: [client.allowInsecureRequests] };

async function discover(auth) {
  return client.discovery(new URL(issuer), clientId, clientSecret, auth, insecure);
}

// One remote key set for the whole run: it may not refetch (long cooldown), so a token signed
// after a rotation verifies only if the key that signs it was published before.
const jwks = jose.createRemoteJWKSet(new URL(`${issuer}/jwks`), {
  cooldownDuration: 10 * 60 * 1000,
  cacheMaxAge: Infinity,
});

async function verify(token) {
  return jose.jwtVerify(token, jwks, {
    issuer, audience: hub, typ: 'at+jwt', algorithms: ['ES256'],
  });
}

test('discovery describes only what the realm does', async () => {
  const config = await discover(client.ClientSecretBasic(clientSecret));
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, issuer);
  assert.equal(meta.token_endpoint, `${issuer}/token`);
  assert.deepEqual(meta.grant_types_supported,
    ['authorization_code', 'refresh_token', 'client_credentials']);
  assert.equal(meta.authorization_endpoint, `${issuer}/authorize`);
  assert.equal(meta.end_session_endpoint, `${issuer}/logout`, 'logout works (identity_logout.mjs)');
});

test('client_credentials with client_secret_basic, verified with jose against the JWKS', async () => {
  const config = await discover(client.ClientSecretBasic(clientSecret));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'library.read' });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.scope, 'library.read');
  assert.ok(tokens.expires_in > 0);
  const { payload, protectedHeader } = await verify(tokens.access_token);
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(protectedHeader.kid, env('ACTIVE_KID'));
  assert.equal(payload.sub, clientId);
  assert.equal(payload.client_id, clientId);
  assert.equal(payload.scope, 'library.read');
  assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/);
});

test('client_credentials with client_secret_post, then introspection', async () => {
  const config = await discover(client.ClientSecretPost(clientSecret));
  const tokens = await client.clientCredentialsGrant(config);
  const { payload } = await verify(tokens.access_token);
  assert.equal(payload.scope, 'library.read');
  const info = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.client_id, clientId);
  assert.equal(info.jti, payload.jti);
});

test('a wrong secret is refused: 401, a Basic challenge, invalid_client', async () => {
  const config = await client.discovery(new URL(issuer), clientId, 'wrong-secret',
    client.ClientSecretBasic('wrong-secret'), insecure);
  let failure;
  await assert.rejects(client.clientCredentialsGrant(config), (err) => {
    failure = err;
    return true;
  });
  assert.equal(failure.status, 401);
  assert.equal(failure.cause[0].scheme, 'basic');
  assert.equal((await failure.response.json()).error, 'invalid_client');
});

// The realm's private key, opened as the hub opens it: nonce(12) || ciphertext || tag(16),
// AES-256-GCM under the master key, "slug/kid" as additional data.
function openRealmKey() {
  const sealed = Buffer.from(env('SEALED_HEX'), 'hex');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(env('MASTER_KEY'), 'hex'),
    sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(`kodaira/${env('ACTIVE_KID')}`));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)),
    decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}

async function introspect(token) {
  const config = await discover(client.ClientSecretBasic(clientSecret));
  return client.tokenIntrospection(config, token);
}

test('with the realm key itself: a valid token is active, an expired one is not', async () => {
  const jwk = openRealmKey();
  assert.equal(jwk.kid, env('ACTIVE_KID'));
  const key = await jose.importJWK(jwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const sign = (iat, exp) => new jose.SignJWT({ client_id: clientId, scope: 'library.read' })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(issuer).setSubject(clientId).setAudience(hub)
    .setIssuedAt(iat).setExpirationTime(exp).setJti('e2e-forged-0000000000').sign(key);
  assert.equal((await introspect(await sign(now - 10, now + 60))).active, true);
  assert.equal((await introspect(await sign(now - 600, now - 300))).active, false);
});

test('"none" and HS256 keyed with the public key are refused', async () => {
  const published = (await (await fetch(`${issuer}/jwks`)).json()).keys
    .find((k) => k.kid === env('ACTIVE_KID'));
  const claims = { iss: issuer, sub: clientId, client_id: clientId, aud: hub };
  const now = Math.floor(Date.now() / 1000);
  const unsecured = new jose.UnsecuredJWT(claims).setIssuedAt(now).setExpirationTime(now + 60)
    .encode();
  const [, body] = unsecured.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', kid: published.kid, typ: 'at+jwt' }))
    .toString('base64url');
  assert.equal((await introspect(`${header}.${body}.`)).active, false);
  const hs256 = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: published.kid, typ: 'at+jwt' })
    .setIssuedAt(now).setExpirationTime(now + 60)
    .sign(new TextEncoder().encode(JSON.stringify(published)));
  assert.equal((await introspect(hs256)).active, false);
});

test('after a rotation, new tokens verify with the key set fetched before it', async () => {
  const before = await verify((await client.clientCredentialsGrant(
    await discover(client.ClientSecretBasic(clientSecret)))).access_token);
  const response = await fetch(`${hub}/admin/v1/realms/kodaira/keys:rotate`, {
    method: 'POST', headers: { authorization: `Bearer ${env('ADMIN_TOKEN')}` },
  });
  assert.equal(response.status, 200);
  const chain = await response.json();
  assert.deepEqual(chain.retired, [before.protectedHeader.kid]);
  const tokens = await client.clientCredentialsGrant(
    await discover(client.ClientSecretBasic(clientSecret)));
  const after = await verify(tokens.access_token);
  assert.equal(after.protectedHeader.kid, chain.active);
  assert.notEqual(after.protectedHeader.kid, before.protectedHeader.kid);
});
