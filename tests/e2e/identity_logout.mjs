// identity_logout.mjs — RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and
// back-channel logout (Back-Channel Logout 1.0) of the hub's realms, driven by openid-client
// (buildEndSessionUrl) with a small browser made of fetch and a cookie jar, and checked by
// relying parties made here: node HTTP and HTTPS servers on 127.0.0.1 that receive the logout
// tokens and verify them with jose against the realm's JWKS.
//
// Covers: one session across two realms (Kodaira and Nishitokyo, the second with consent)
// ended by one logout, every RP told (http answering 200 and 204, a retry after a 500, https
// with a certificate the hub's trust store vouches for), an https RP whose certificate names
// another host never told and the failure logged without the token, the session cookie
// cleared, non-offline grants revoked while an offline refresh token survives, the
// confirmation page and its CSRF token, and the refusals that must be a page, never a
// redirect: an unregistered post_logout_redirect_uri and a forged id_token_hint.
//
// Environment: HUB, ADMIN_TOKEN, TLS_DIR (good.{key,pem} for 127.0.0.1 and wrong.{key,pem}
// for another name, both from a CA the hub trusts), HUB_LOG (the hub's log file).
import * as client from 'openid-client';
import * as jose from 'jose';
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Browser, hidden, codeFlow } from './lib/oidc_browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const hub = env('HUB');
const adminToken = env('ADMIN_TOKEN');
const tlsDir = env('TLS_DIR');
const hubLog = env('HUB_LOG');
const insecure = { execute: [client.allowInsecureRequests] };
const REDIRECT = 'http://127.0.0.1:9/cb';
const LOGGED_OUT = 'http://127.0.0.1:9/logged-out';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const PASSWORD = 'correct horse battery staple';
const { authorize, fillLogin, approveConsent, exchange } = codeFlow(hub, REDIRECT);

// --- relying parties' back-channel endpoints ------------------------------------------------

// Every POST any RP endpoint received: { path, contentType, token }.
const received = [];
let wrongNameHandshakes = 0;
const flakyFailed = new Set();

function receive(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    const token = new URLSearchParams(body).get('logout_token');
    received.push({ path: req.url, method: req.method, contentType: req.headers['content-type'], token });
    // /bc/flaky fails its first delivery; the hub must try again.
    if (req.url === '/bc/flaky' && !flakyFailed.has(token)) {
      flakyFailed.add(token);
      res.writeHead(500).end();
      return;
    }
    res.writeHead(req.url === '/bc/nishitokyo' ? 204 : 200, { 'cache-control': 'no-store' }).end();
  });
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

const plainServer = http.createServer(receive);
const tlsServer = https.createServer({
  key: readFileSync(`${tlsDir}/good.key`), cert: readFileSync(`${tlsDir}/good.pem`),
}, receive);
const wrongNameServer = https.createServer({
  key: readFileSync(`${tlsDir}/wrong.key`), cert: readFileSync(`${tlsDir}/wrong.pem`),
}, receive);
wrongNameServer.on('tlsClientError', () => { wrongNameHandshakes++; });
// An RP that accepts connections and never answers: the hub's deadline must end each attempt.
const heldSockets = [];
const blackHole = net.createServer((socket) => {
  heldSockets.push(socket);
  socket.on('error', () => {});
});

const waitFor = async (what, predicate, ms = 10000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = predicate();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
};
const postsTo = (path) => received.filter((p) => p.path === path);

// --- the hub, as an operator and a browser see it -------------------------------------------

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
  const config = await client.discovery(new URL(`${hub}/t/${realm}`), made.client_id,
    made.client_secret, client.ClientSecretBasic(made.client_secret), insecure);
  return { ...made, config, realm };
}

async function login(browser, res, realm) {
  return fillLogin(browser, res, realm, 'hanako', PASSWORD);
}

// 1 if this browser still has a live session: the authorization goes straight to the code.
async function hasSession(browser, rp) {
  const { res } = await authorize(browser, rp);
  await res.text();
  if ([302, 303].includes(res.status)) {
    assert.ok(new URL(res.headers.get('location')).searchParams.get('code'));
    return true;
  }
  assert.equal(res.status, 200, 'the login page');
  return false;
}

// Logs a new browser in at rp (approving consent when asked) and returns the tokens.
async function signIn(rp) {
  const browser = new Browser();
  const flow = await authorize(browser, rp);
  let res = await login(browser, flow.res, rp.realm);
  if (res.status === 200) res = await approveConsent(browser, res, rp.realm);
  return { browser, tokens: await exchange(rp, flow, res) };
}

// A refusal that must be a page of ours, never a redirect.
async function expectErrorPage(res, what) {
  const html = await res.text();
  assert.equal(res.status, 400, `${what}: ${html.slice(0, 200)}`);
  assert.equal(res.headers.get('location'), null, what);
  assert.match(res.headers.get('content-type'), /text\/html/, what);
  return html;
}

const jwks = {};
async function verifyLogoutToken(token, rp, idClaims) {
  const issuer = `${hub}/t/${rp.realm}`;
  jwks[rp.realm] ??= jose.createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks[rp.realm], {
    issuer, audience: rp.client_id, typ: 'logout+jwt', algorithms: ['ES256', 'RS256'],
  });
  assert.ok(protectedHeader.kid);
  assert.deepEqual(payload.events, { [EVENT]: {} });
  assert.equal(payload.sid, idClaims.sid, 'the session the ID token named');
  if (idClaims.sub) assert.equal(payload.sub, idClaims.sub, 'the subject this client knows');
  assert.equal('nonce' in payload, false, 'a logout token has no nonce');
  assert.ok(payload.jti && payload.iat);
  assert.ok(payload.exp > payload.iat && payload.exp - payload.iat <= 120);
  return payload;
}

let kodairaRp; let nishitokyoRp; let flakyRp; let tlsRp; let wrongNameRp; let blackHoleRp;
let plainRp;

test.before(async () => {
  const plain = await listen(plainServer);
  const tls = await listen(tlsServer);
  const wrong = await listen(wrongNameServer);
  const hole = await listen(blackHole);
  await admin('/admin/v1/realms/kodaira/users', { username: 'hanako', password: PASSWORD });
  const rp = (realm, name, backchannel, spec = {}) => makeClient(realm, {
    name, first_party: true, service: 'library.loan',
    post_logout_redirect_uris: [`${LOGGED_OUT}/${name}`],
    ...(backchannel ? { backchannel_logout_uri: backchannel } : {}), ...spec,
  });
  kodairaRp = await rp('kodaira', 'kodaira', `http://127.0.0.1:${plain}/bc/kodaira`);
  nishitokyoRp = await rp('nishitokyo', 'nishitokyo', `http://127.0.0.1:${plain}/bc/nishitokyo`,
    { first_party: false });
  flakyRp = await rp('kodaira', 'flaky', `http://127.0.0.1:${plain}/bc/flaky`);
  tlsRp = await rp('kodaira', 'tls', `https://127.0.0.1:${tls}/bc/tls`);
  wrongNameRp = await rp('kodaira', 'wrong', `https://127.0.0.1:${wrong}/bc/wrong`);
  blackHoleRp = await rp('kodaira', 'hole', `http://127.0.0.1:${hole}/bc/hole`);
  plainRp = await rp('kodaira', 'plain', null);
});

test.after(() => {
  plainServer.close();
  tlsServer.close();
  wrongNameServer.close();
  blackHole.close();
  for (const socket of heldSockets) socket.destroy();
});

test('discovery announces the end session endpoint and back-channel logout', () => {
  const meta = kodairaRp.config.serverMetadata();
  assert.equal(meta.end_session_endpoint, `${hub}/t/kodaira/logout`);
  assert.equal(meta.backchannel_logout_supported, true);
  assert.equal(meta.backchannel_logout_session_supported, true);
  assert.equal(nishitokyoRp.config.serverMetadata().end_session_endpoint,
    `${hub}/t/nishitokyo/logout`);
});

let wrongNameSid;

test('one logout ends the session in every realm and every RP hears of it', async () => {
  const browser = new Browser();
  // Kodaira: the password; no offline_access, so these tokens belong to the session.
  let flow = await authorize(browser, kodairaRp, { scope: 'openid profile' });
  const kodaira = await exchange(kodairaRp, flow, await login(browser, flow.res, 'kodaira'));
  assert.equal(kodaira.refresh_token, undefined);
  // Nishitokyo admits a Kodaira resident for library.loan: no login, a consent page.
  flow = await authorize(browser, nishitokyoRp);
  const nishitokyo = await exchange(nishitokyoRp, flow,
    await approveConsent(browser, flow.res, 'nishitokyo'));
  assert.ok(nishitokyo.refresh_token, 'offline_access');
  const sid = kodaira.claims().sid;
  assert.ok(sid);
  assert.equal(nishitokyo.claims().sid, sid, 'one session spans both realms');
  for (const rp of [flakyRp, tlsRp, wrongNameRp, blackHoleRp]) {
    assert.equal(await hasSession(browser, rp), true, `a grant for ${rp.name}`);
  }
  wrongNameSid = sid;

  const state = client.randomState();
  const url = client.buildEndSessionUrl(kodairaRp.config, {
    id_token_hint: kodaira.id_token, post_logout_redirect_uri: `${LOGGED_OUT}/kodaira`, state,
  });
  const res = await browser.request(url);
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get('location'), `${LOGGED_OUT}/kodaira?state=${state}`);
  const cleared = res.headers.getSetCookie().find((c) => c.startsWith('rk_sso='));
  assert.match(cleared, /^rk_sso=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax/);

  // Every RP with a grant in the session is told, each with its own verified token.
  const [k] = await waitFor('Kodaira\'s logout token', () => postsTo('/bc/kodaira').length && postsTo('/bc/kodaira'));
  const [n] = await waitFor('Nishitokyo\'s logout token', () => postsTo('/bc/nishitokyo').length && postsTo('/bc/nishitokyo'));
  for (const post of [k, n]) {
    assert.equal(post.method, 'POST');
    assert.equal(post.contentType, 'application/x-www-form-urlencoded');
  }
  await verifyLogoutToken(k.token, kodairaRp, kodaira.claims());
  await verifyLogoutToken(n.token, nishitokyoRp, nishitokyo.claims());
  const [t] = await waitFor('the https RP\'s logout token', () => postsTo('/bc/tls').length && postsTo('/bc/tls'));
  await verifyLogoutToken(t.token, tlsRp, { sid });
  const flaky = await waitFor('a retry after a 500', () => postsTo('/bc/flaky').length >= 2 && postsTo('/bc/flaky'));
  assert.equal(flaky[1].token, flaky[0].token, 'the same token, tried again');
  await verifyLogoutToken(flaky[1].token, flakyRp, { sid });

  // The session is gone in both realms: the next authorization asks for the password.
  assert.equal(await hasSession(browser, kodairaRp), false);
  const again = await authorize(browser, nishitokyoRp);
  assert.match(await again.res.text(), /name="username"/);

  // Tokens of the session stop working; an offline refresh token outlives it.
  await assert.rejects(client.fetchUserInfo(kodairaRp.config, kodaira.access_token, kodaira.claims().sub));
  const refreshed = await client.refreshTokenGrant(nishitokyoRp.config, nishitokyo.refresh_token);
  assert.ok(refreshed.access_token);
});

test('an https RP whose certificate names another host is never told', async () => {
  await waitFor('the handshake with the wrong name', () => wrongNameHandshakes > 0);
  assert.equal(postsTo('/bc/wrong').length, 0);
  assert.ok(wrongNameSid);
});

test('a wrong post_logout_redirect_uri or a forged id_token_hint is a page, never a redirect', async () => {
  const { browser, tokens } = await signIn(plainRp);
  const idToken = tokens.id_token;
  const end = (params, rp = plainRp) => browser.request(client.buildEndSessionUrl(rp.config, params));

  await expectErrorPage(await end({ id_token_hint: idToken, post_logout_redirect_uri: `${LOGGED_OUT}/elsewhere` }),
    'an unregistered URI');
  await expectErrorPage(await end({ id_token_hint: idToken, post_logout_redirect_uri: `${LOGGED_OUT}/kodaira` }),
    'another client\'s URI');
  await expectErrorPage(await end({ post_logout_redirect_uri: `${LOGGED_OUT}/plain` }, kodairaRp),
    'a URI registered for another client than client_id');
  await expectErrorPage(await end({ id_token_hint: idToken, client_id: kodairaRp.client_id }),
    'a client_id that is not the hint\'s audience');
  await expectErrorPage(await browser.request(
    `${hub}/t/kodaira/logout?post_logout_redirect_uri=${encodeURIComponent(`${LOGGED_OUT}/plain`)}`),
  'a URI without a client');

  const [h, p, s] = idToken.split('.');
  const flipped = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  const claims = jose.decodeJwt(idToken);
  const { kid } = jose.decodeProtectedHeader(idToken);
  const { privateKey } = await jose.generateKeyPair('ES256');
  const foreign = await new jose.SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(privateKey);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
  const nishitokyoHint = (await signIn(nishitokyoRp)).tokens.id_token;
  for (const [hint, what] of [[flipped, 'an altered signature'], [foreign, 'a key the realm does not hold'],
    [none, 'alg none'], [tokens.access_token, 'an access token'], ['garbage', 'garbage'],
    [nishitokyoHint, 'another realm\'s ID token']]) {
    await expectErrorPage(await end({ id_token_hint: hint, post_logout_redirect_uri: `${LOGGED_OUT}/plain` }), what);
  }
  assert.equal(await hasSession(browser, plainRp), true, 'nothing above logged the resident out');

  const res = await end({ id_token_hint: idToken, post_logout_redirect_uri: `${LOGGED_OUT}/plain` });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), `${LOGGED_OUT}/plain`, 'no state, none added');
  assert.equal(await hasSession(browser, plainRp), false);
});

test('without id_token_hint the resident confirms; a forged CSRF token logs nobody out', async () => {
  const { browser } = await signIn(plainRp);
  browser.cookies.delete('rk_csrf'); // the page must set a fresh one
  const state = 'st-' + client.randomState();
  const url = `${hub}/t/kodaira/logout?client_id=${plainRp.client_id}` +
    `&post_logout_redirect_uri=${encodeURIComponent(`${LOGGED_OUT}/plain`)}&state=${state}&ui_locales=en`;
  let res = await browser.request(url);
  const html = await res.text();
  assert.equal(res.status, 200, html.slice(0, 300));
  assert.match(html, /name="decision" value="logout"/);
  assert.match(html, /lang="en"/);
  assert.ok(browser.cookies.get('rk_csrf'), 'a fresh CSRF cookie');
  const tx = hidden(html, 'tx');
  const csrf = hidden(html, 'csrf');
  const action = `${hub}/t/kodaira/logout`;

  res = await browser.post(action, { tx, csrf: 'forged', decision: 'logout' });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('location'), null);
  await res.text();
  const stranger = new Browser(); // another site's form: no cookies of ours
  res = await stranger.post(action, { tx, csrf, decision: 'logout' });
  assert.equal(res.status, 403);
  await res.text();
  res = await browser.post(action, { tx: `${tx}x`, csrf, decision: 'logout' });
  assert.equal(res.status, 400, 'an altered tx');
  await res.text();
  res = await browser.post(action, { tx, csrf, decision: 'cancel' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('location'), null);
  await res.text();
  assert.equal(await hasSession(browser, plainRp), true, 'still logged in');

  res = await browser.post(action, { tx, csrf, decision: 'logout' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `${LOGGED_OUT}/plain?state=${state}`);
  assert.equal(browser.cookies.get('rk_sso'), '', 'the session cookie is cleared');
  assert.equal(await hasSession(browser, plainRp), false);

  // Nothing to end: the "logged out" page, or straight back to the client.
  res = await browser.request(`${hub}/t/kodaira/logout`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<h1>/);
});

test('an RP\'s cross-site POST comes back as a GET that carries the session cookie', async () => {
  const { browser, tokens } = await signIn(plainRp);
  const body = new URLSearchParams({
    id_token_hint: tokens.id_token, post_logout_redirect_uri: `${LOGGED_OUT}/plain`, state: 'posted',
  });
  // The POST a relying party's page makes: SameSite=Lax keeps the session cookie off it.
  let res = await fetch(`${hub}/t/kodaira/logout`, {
    method: 'POST', body, redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location'), hub);
  assert.equal(location.pathname, '/t/kodaira/logout');
  res = await browser.request(location);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), `${LOGGED_OUT}/plain?state=posted`);
  assert.equal(await hasSession(browser, plainRp), false);
});

// The hub's log as JSON lines.
const logLines = () => readFileSync(hubLog, 'utf8').split('\n').filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));

test('failures are retried and logged by client id, never with the token', async () => {
  // The RP that never answers: each attempt ends at the 5-second deadline, then a retry.
  const timedOut = await waitFor('a timed-out attempt', () => logLines().find((l) =>
    l.msg === 'back-channel logout attempt failed; retrying' && l.client_id === blackHoleRp.client_id), 15000);
  assert.equal(timedOut.reason, 'timeout');
  assert.equal(timedOut.status, 0);
  // The RP whose certificate names another host: four attempts, then given up.
  const failed = await waitFor('the wrong-name failure', () => logLines().find((l) =>
    l.msg === 'back-channel logout failed' && l.client_id === wrongNameRp.client_id), 30000);
  assert.equal(failed.status, 0);
  assert.match(failed.reason, /IP address mismatch/, 'the certificate does not name 127.0.0.1');
  assert.equal(failed.attempts, 4);
  const log = readFileSync(hubLog, 'utf8');
  assert.equal(/eyJ[A-Za-z0-9_-]{10,}\./.test(log), false, 'no JWT in the log');
  assert.equal(log.includes('logout_token'), false);
  // The black hole is still being tried: the hub stops with a delivery in flight or waiting.
});
