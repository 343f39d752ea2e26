// identity_code_flow.mjs — the authorization code flow of the hub's realms, driven by
// openid-client (an OpenID Certified relying party library nobody here wrote) with a small
// browser made of fetch and a cookie jar that fills in the hub's own login and consent forms.
//
// Covers: PKCE (S256) for public and confidential clients, login and consent pages, ID token
// validation (nonce, at_hash, iss, aud, signature against the JWKS), userinfo, pairwise and
// public subjects, cross-city admission by agreement, refresh token rotation and reuse
// detection, revocation, introspection of residents' tokens, and negative cases modelled on
// the OpenID conformance suite's Basic OP module.
//
// Environment: HUB (base URL), ADMIN_TOKEN. Accounts and clients are made here through the
// admin API, as an operator would.
import * as client from 'openid-client';
import * as jose from 'jose';
import test from 'node:test';
import assert from 'node:assert/strict';
import { Browser, hidden, codeFlow } from './lib/oidc_browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const hub = env('HUB');
const adminToken = env('ADMIN_TOKEN');
const insecure = { execute: [client.allowInsecureRequests] };
const REDIRECT = 'http://127.0.0.1:9/cb';
const { authorize, fillLogin, approveConsent, exchange, signIn } = codeFlow(hub, REDIRECT);

async function admin(path, body) {
  const res = await fetch(`${hub}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 201, `${path}: ${JSON.stringify(json)}`);
  return json;
}

async function makeClient(realm, spec) {
  const made = await admin(`/admin/v1/realms/${realm}/clients`, {
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT],
    ...spec,
  });
  const auth = made.client_secret ? client.ClientSecretBasic(made.client_secret) : client.None();
  const config = await client.discovery(new URL(`${hub}/t/${realm}`), made.client_id,
    made.client_secret, auth, insecure);
  return { ...made, config };
}

// The error a redirect carries, checked against state and iss.
function redirectError(res, state, realm) {
  assert.ok([302, 303].includes(res.status), `expected a redirect, got ${res.status}`);
  const location = new URL(res.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
  assert.equal(location.searchParams.get('state'), state);
  assert.equal(location.searchParams.get('iss'), `${hub}/t/${realm}`);
  return location.searchParams.get('error');
}

const PASSWORD = 'correct horse battery staple';
let kodairaApp; let kodairaPortal; let nishitokyoApp; let publicA; let publicB;

test.before(async () => {
  await admin('/admin/v1/realms/kodaira/users', {
    username: 'hanako', password: PASSWORD, display_name: '小平 花子', email: 'hanako@example.jp',
  });
  await admin('/admin/v1/realms/chofu/users', { username: 'taro', password: PASSWORD });
  await admin('/admin/v1/realms/kodaira/users', { username: 'throttled', password: PASSWORD });
  await admin('/admin/v1/realms/kodaira/users', { username: 'victim', password: PASSWORD });
  kodairaApp = await makeClient('kodaira', {
    name: '小平市 図書館', first_party: true, service: 'library.loan',
  });
  kodairaPortal = await makeClient('kodaira', {
    name: 'Kodaira portal', token_endpoint_auth_method: 'none', service: 'sso',
  });
  nishitokyoApp = await makeClient('nishitokyo', {
    name: '西東京市 図書館', first_party: true, service: 'library.loan',
  });
  publicA = await makeClient('kodaira', {
    name: 'public A', subject_type: 'public', first_party: true, service: 'sso',
  });
  publicB = await makeClient('nishitokyo', {
    name: 'public B', subject_type: 'public', service: 'sso',
  });
});

test('discovery lists the code flow truthfully', async () => {
  const meta = kodairaApp.config.serverMetadata();
  assert.equal(meta.authorization_endpoint, `${hub}/t/kodaira/authorize`);
  assert.deepEqual(meta.response_types_supported, ['code']);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.ok(meta.grant_types_supported.includes('refresh_token'));
  assert.deepEqual(meta.subject_types_supported, ['pairwise', 'public']);
  assert.ok(meta.id_token_signing_alg_values_supported.includes('ES256'));
});

test('a first-party client: login, ID token, userinfo, refresh rotation and reuse', async () => {
  const { tokens } = await signIn(kodairaApp, 'kodaira', 'hanako', PASSWORD);
  const claims = tokens.claims();
  assert.equal(claims.iss, `${hub}/t/kodaira`);
  assert.equal(claims.aud, kodairaApp.client_id);
  assert.equal(claims.acr, 'urn:renkei:acr:password');
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.home_municipality, '132110');
  assert.ok(claims.sid && claims.auth_time && claims.at_hash);
  assert.equal(claims.name, '小平 花子');

  const jwks = jose.createRemoteJWKSet(new URL(`${hub}/t/kodaira/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
    issuer: `${hub}/t/kodaira`, typ: 'at+jwt',
  });
  assert.equal(payload.sub, claims.sub);
  assert.ok(protectedHeader.kid);

  const info = await client.fetchUserInfo(kodairaApp.config, tokens.access_token, claims.sub);
  assert.equal(info.preferred_username, 'hanako');
  assert.equal(info.email, 'hanako@example.jp');

  const second = await client.refreshTokenGrant(kodairaApp.config, tokens.refresh_token);
  assert.notEqual(second.refresh_token, tokens.refresh_token, 'rotated on use');
  assert.equal(second.claims().sub, claims.sub);
  await assert.rejects(client.refreshTokenGrant(kodairaApp.config, tokens.refresh_token),
    (e) => e.error === 'invalid_grant', 'a spent refresh token is refused');
  await assert.rejects(client.refreshTokenGrant(kodairaApp.config, second.refresh_token),
    (e) => e.error === 'invalid_grant', 'and the whole family is revoked');
  await assert.rejects(client.fetchUserInfo(kodairaApp.config, second.access_token, claims.sub),
    'access tokens of the revoked family stop working');
});

test('a public client with PKCE asks consent once per scope set', async () => {
  const browser = new Browser();
  let flow = await authorize(browser, kodairaPortal);
  let res = await fillLogin(browser, flow.res, 'kodaira', 'hanako', PASSWORD);
  res = await approveConsent(browser, res, 'kodaira');
  const tokens = await exchange(kodairaPortal, flow, res);
  assert.ok(tokens.refresh_token);

  flow = await authorize(browser, kodairaPortal);
  const again = await exchange(kodairaPortal, flow, flow.res);
  assert.equal(again.claims().sub, tokens.claims().sub, 'same session, no login, no consent');

  flow = await authorize(browser, kodairaPortal, { prompt: 'consent' });
  assert.equal(flow.res.status, 200, 'prompt=consent asks again');
  assert.match(await flow.res.text(), /decision/);
});

test('pairwise subjects differ across sectors; public ones do not', async () => {
  const a = await signIn(kodairaApp, 'kodaira', 'hanako', PASSWORD);
  const b = await signIn(nishitokyoApp, 'nishitokyo', 'hanako', PASSWORD, { consent: true });
  assert.notEqual(a.tokens.claims().sub, b.tokens.claims().sub);
  assert.equal(b.tokens.claims().home_municipality, '132110', 'a resident of Kodaira');
  const pa = await signIn(publicA, 'kodaira', 'hanako', PASSWORD);
  const pb = await signIn(publicB, 'nishitokyo', 'hanako', PASSWORD, { consent: true });
  assert.equal(pa.tokens.claims().sub, pb.tokens.claims().sub);
  assert.notEqual(pa.tokens.claims().sub, a.tokens.claims().sub);
});

test('one SSO session spans realms', async () => {
  const { browser } = await signIn(kodairaApp, 'kodaira', 'hanako', PASSWORD);
  const flow = await authorize(browser, nishitokyoApp);
  let res = flow.res;
  if (res.status === 200) res = await approveConsent(browser, res, 'nishitokyo');
  const tokens = await exchange(nishitokyoApp, flow, res);
  assert.equal(tokens.claims().iss, `${hub}/t/nishitokyo`);
});

test('a resident whose city has no agreement is refused', async () => {
  const browser = new Browser();
  const flow = await authorize(browser, kodairaApp);
  const res = await fillLogin(browser, flow.res, 'kodaira', 'taro', PASSWORD);
  assert.equal(redirectError(res, flow.state, 'kodaira'), 'access_denied');
});

test('a reused code is refused and revokes what it issued', async () => {
  const browser = new Browser();
  const flow = await authorize(browser, kodairaApp);
  const res = await fillLogin(browser, flow.res, 'kodaira', 'hanako', PASSWORD);
  const location = new URL(res.headers.get('location'));
  const tokens = await client.authorizationCodeGrant(kodairaApp.config, location, {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
  });
  await assert.rejects(client.authorizationCodeGrant(kodairaApp.config, location, {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
  }), (e) => e.error === 'invalid_grant');
  const introspected = await client.tokenIntrospection(kodairaApp.config, tokens.access_token);
  assert.equal(introspected.active, false);
  await assert.rejects(client.refreshTokenGrant(kodairaApp.config, tokens.refresh_token));
});

test('PKCE: a wrong or missing verifier is refused', async () => {
  for (const verifier of ['wrong-verifier-wrong-verifier-wrong-verifier-0', undefined]) {
    const browser = new Browser();
    const flow = await authorize(browser, kodairaApp);
    const res = await fillLogin(browser, flow.res, 'kodaira', 'hanako', PASSWORD);
    const code = new URL(res.headers.get('location')).searchParams.get('code');
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    if (verifier) body.set('code_verifier', verifier);
    const answer = await fetch(`${hub}/t/kodaira/token`, {
      method: 'POST', body,
      headers: { authorization: `Basic ${Buffer.from(`${kodairaApp.client_id}:${kodairaApp.client_secret}`).toString('base64')}` },
    });
    assert.equal(answer.status, 400);
    assert.equal((await answer.json()).error, 'invalid_grant');
  }
});

test('redirect URI, client and duplicated parameters: an error page, never a redirect', async () => {
  const browser = new Browser();
  const base = `${hub}/t/kodaira/authorize?response_type=code&scope=openid&state=s`;
  const cases = [
    `${base}&client_id=${kodairaApp.client_id}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/other')}`,
    `${base}&client_id=${kodairaApp.client_id}&redirect_uri=${encodeURIComponent(`${REDIRECT}/`)}`,
    `${base}&client_id=nosuchclient0000000000&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    `${base}&client_id=${kodairaApp.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=t`,
    `${base}&client_id=${kodairaApp.client_id}`,
  ];
  for (const url of cases) {
    const res = await browser.request(url);
    assert.equal(res.status, 400, url);
    assert.equal(res.headers.get('location'), null, url);
    assert.match(res.headers.get('content-type'), /text\/html/);
  }
});

test('request errors go back to the client with state', async () => {
  const browser = new Browser();
  const expect = async (extra, error, rp = kodairaApp) => {
    const flow = await authorize(browser, rp, extra);
    assert.equal(redirectError(flow.res, flow.state, 'kodaira'), error, JSON.stringify(extra));
  };
  await expect({ scope: 'profile' }, 'invalid_scope');
  await expect({ scope: 'openid library.admin' }, 'invalid_scope');
  await expect({ code_challenge_method: 'plain' }, 'invalid_request');
  await expect({ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', kodairaPortal);
  await expect({ prompt: 'none' }, 'login_required');
  await expect({ response_type: 'token' }, 'unsupported_response_type');
  await expect({ state: 'x'.repeat(600) }, 'invalid_request');
  await expect({ request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported');
  await expect({ max_age: '-1' }, 'invalid_request');
});

test('max_age=0 and prompt=login ask for the password again', async () => {
  const { browser } = await signIn(kodairaApp, 'kodaira', 'hanako', PASSWORD);
  for (const extra of [{ max_age: '0' }, { prompt: 'login' }]) {
    const flow = await authorize(browser, kodairaApp, extra);
    assert.equal(flow.res.status, 200, JSON.stringify(extra));
    const res = await fillLogin(browser, flow.res, 'kodaira', 'hanako', PASSWORD);
    const tokens = await exchange(kodairaApp, flow, res);
    assert.ok(tokens.claims().auth_time >= Math.floor(Date.now() / 1000) - 5);
  }
});

test('a wrong password, a form without its CSRF token, and throttling', async () => {
  const browser = new Browser();
  let flow = await authorize(browser, kodairaApp);
  const html = await flow.res.text();
  let res = await browser.post(`${hub}/t/kodaira/login`, {
    tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'hanako', password: 'wrong password!',
  });
  assert.equal(res.status, 401);
  const page = await res.text();
  assert.match(page, /role="alert"/);
  res = await browser.post(`${hub}/t/kodaira/login`, {
    tx: hidden(html, 'tx'), csrf: 'forged', username: 'hanako', password: PASSWORD,
  });
  assert.equal(res.status, 403, 'a forged CSRF token shows the form again');
  assert.equal(res.headers.get('location'), null);
  const stranger = new Browser(); // another site's form: no rk_csrf cookie
  res = await stranger.post(`${hub}/t/kodaira/login`, {
    tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'hanako', password: PASSWORD,
  });
  assert.equal(res.status, 403);

  let throttled = false;
  for (let i = 0; i < 8 && !throttled; i++) {
    res = await browser.post(`${hub}/t/kodaira/login`, {
      tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'throttled', password: `wrong ${i}`,
    });
    throttled = res.status === 429;
    await res.text();
  }
  assert.ok(throttled, 'failures on one account are throttled');
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
});

test('userinfo refuses what is not a live resident token', async () => {
  const { tokens } = await signIn(kodairaApp, 'kodaira', 'hanako', PASSWORD);
  const call = (token) => fetch(`${hub}/t/kodaira/userinfo`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal((await call(null)).status, 401);
  const [h, p] = tokens.access_token.split('.');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
  assert.equal((await call(none)).status, 401);
  assert.equal((await call(`${h}.${p}.AAAA`)).status, 401);
  assert.equal((await call(tokens.access_token)).status, 200);
  await client.tokenRevocation(kodairaApp.config, tokens.refresh_token);
  assert.equal((await call(tokens.access_token)).status, 401, 'revoked with its refresh token');
});

test('the account page: the login page first, then who is logged in; the session serves services', async () => {
  const browser = new Browser();
  let res = await browser.request(`${hub}/t/kodaira/account?ui_locales=en`);
  let html = await res.text();
  assert.equal(res.status, 200);
  assert.match(html, /autocomplete="current-password"/, 'not logged in: the login page');
  res = await browser.post(`${hub}/t/kodaira/login`, {
    tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'hanako', password: PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/t/kodaira/account');
  res = await browser.request(`${hub}/t/kodaira/account?ui_locales=en`);
  html = await res.text();
  assert.match(html, /You are logged in/);
  assert.match(html, /hanako/);
  assert.match(html, /小平 花子/);
  assert.match(html, /href="\/t\/kodaira\/logout"/);
  // The same session logs into a first-party service without asking again.
  const flow = await authorize(browser, kodairaApp);
  assert.ok([302, 303].includes(flow.res.status), 'no login page: the SSO session is used');
  const tokens = await exchange(kodairaApp, flow, flow.res);
  assert.equal(tokens.claims().preferred_username, 'hanako');
});

test('hammering a username does not lock its owner out of a browser they used before', async () => {
  const own = await signIn(kodairaApp, 'kodaira', 'victim', PASSWORD);
  assert.ok(own.browser.cookies.has('rk_device'), 'a successful login marks the browser');
  const attacker = new Browser();
  const flow = await authorize(attacker, kodairaApp);
  const html = await flow.res.text();
  let res;
  let throttled = false;
  for (let i = 0; i < 10 && !throttled; i++) {
    res = await attacker.post(`${hub}/t/kodaira/login`, {
      tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'victim', password: `guess ${i}`,
    });
    throttled = res.status === 429;
    await res.text();
  }
  assert.ok(throttled, 'the attacker is throttled');
  const stranger = new Browser();
  const fresh = await authorize(stranger, kodairaApp);
  res = await fillLogin(stranger, fresh.res, 'kodaira', 'victim', PASSWORD);
  assert.equal(res.status, 429, 'a new browser waits, even with the right password');
  const again = await authorize(own.browser, kodairaApp, { prompt: 'login' });
  res = await fillLogin(own.browser, again.res, 'kodaira', 'victim', PASSWORD);
  const tokens = await exchange(kodairaApp, again, res);
  assert.ok(tokens.claims().sub, 'the owner logs in from the browser they used before');
});

test('RS256 per client, and no algorithm confusion at userinfo', async () => {
  const rsa = await makeClient('kodaira', {
    name: 'RS256 service', first_party: true, service: 'library.loan', signing_alg: 'RS256',
  });
  const { tokens } = await signIn(rsa, 'kodaira', 'hanako', PASSWORD);
  const jwks = jose.createRemoteJWKSet(new URL(`${hub}/t/kodaira/jwks`));
  const { protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, {
    issuer: `${hub}/t/kodaira`, audience: rsa.client_id, algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.ok(protectedHeader.kid);
  const at = jose.decodeProtectedHeader(tokens.access_token);
  assert.deepEqual([at.alg, at.typ], ['RS256', 'at+jwt']);

  // The same claims signed HS256 with the realm's public key as the secret: refused.
  const keys = (await (await fetch(`${hub}/t/kodaira/jwks`)).json()).keys;
  const publicKey = keys.find((k) => k.kid === at.kid);
  const secret = new TextEncoder().encode(JSON.stringify(publicKey));
  const forged = await new jose.SignJWT(jose.decodeJwt(tokens.access_token))
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: at.kid }).sign(secret);
  const res = await fetch(`${hub}/t/kodaira/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(res.status, 401);
  const introspected = await client.tokenIntrospection(kodairaApp.config, forged);
  assert.equal(introspected.active, false);
});
