// identity_certificate.mjs — certificate login (the My Number card's model) end to end:
// openid-client asks for the certificate acr, the hub's login page gives a challenge, the real
// `renkeictl cert-login-sign` signs it with a resident's key from a test CA made with OpenSSL
// (tests/lib/make-test-ca), and the ID token carries acr urn:renkei:acr:certificate. Also the
// step-up of a password session (same sid), and refusals: revoked, expired, untrusted, unbound
// certificates, and a challenge taken from another browser.
//
// Environment: HUB, ADMIN_TOKEN, RENKEICTL (the binary), CA (the test CA's directory).
import * as client from 'openid-client';
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const hub = env('HUB');
const adminToken = env('ADMIN_TOKEN');
const renkeictl = env('RENKEICTL');
const ca = env('CA');
const REDIRECT = 'http://127.0.0.1:9/cb';
const CERT_ACR = 'urn:renkei:acr:certificate';
const PASSWORD = 'correct horse battery staple';

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

// The account binding of a certificate: SHA-256 over the DER of its issuer and subject names
// (tbsCertificate's 4th and 6th elements), computed here from the DER independently of the hub.
function certKey(pemPath) {
  const der = new X509Certificate(readFileSync(pemPath)).raw;
  const tlv = (buf, at) => {
    let len = buf[at + 1]; let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f; len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i];
      head = 2 + n;
    }
    return { at, head, len, end: at + head + len };
  };
  const cert = tlv(der, 0);
  const tbs = tlv(der, cert.at + cert.head);
  let at = tbs.at + tbs.head;
  const fields = [];
  while (at < tbs.end && fields.length < 6) { const f = tlv(der, at); fields.push(f); at = f.end; }
  const slice = (f) => der.subarray(f.at, f.end);
  return createHash('sha256').update(slice(fields[3])).update(slice(fields[5])).digest('hex');
}

class Browser {
  constructor() { this.cookies = new Map(); }
  async request(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
  post(url, fields) {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

const hidden = (html, name) => {
  const m = html.match(new RegExp(`type="hidden" name="${name}" value="([^"]*)"`))
    || html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m && m[1].replaceAll('&amp;', '&');
};

// The certificate form's fields (it has its own tx and csrf inputs).
function certificateForm(html) {
  const start = html.indexOf('/login/certificate');
  assert.ok(start > 0, 'the page offers certificate login');
  const form = html.slice(html.lastIndexOf('<form', start), html.indexOf('</form>', start));
  return { tx: hidden(form, 'tx'), csrf: hidden(form, 'csrf'), challenge: hidden(form, 'challenge') };
}

function sign(name, challenge, chain = true) {
  const args = ['cert-login-sign', '--key', `${ca}/${name}.key`, '--cert', `${ca}/${name}.pem`,
    '--challenge', challenge];
  if (chain) args.push('--chain', `${ca}/chain.pem`);
  return execFileSync(renkeictl, args, { encoding: 'utf8' }).trim();
}

let rp;
async function authorize(browser, extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const params = {
    redirect_uri: REDIRECT, scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...extra,
  };
  const res = await browser.request(client.buildAuthorizationUrl(rp.config, params));
  return { res, verifier, state: params.state, nonce: params.nonce };
}

async function exchange(flow, res) {
  assert.equal(res.status, 303, `expected the redirect, got ${res.status}`);
  return client.authorizationCodeGrant(rp.config, new URL(res.headers.get('location')), {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
  });
}

async function certificateLogin(browser, html, name, { chain = true } = {}) {
  const form = certificateForm(html);
  return browser.post(`${hub}/t/kodaira/login/certificate`, {
    ...form, certificate_response: sign(name, form.challenge, chain),
  });
}

test.before(async () => {
  await admin('/admin/v1/realms/kodaira/users', {
    username: 'alice', password: PASSWORD, cert_key: certKey(`${ca}/alice.pem`),
    residency_verified: 'certificate',
  });
  for (const name of ['revoked', 'expired']) {
    await admin('/admin/v1/realms/kodaira/users', {
      username: `${name}-holder`, password: PASSWORD, cert_key: certKey(`${ca}/${name}.pem`),
    });
  }
  const made = await admin('/admin/v1/realms/kodaira/clients', {
    name: 'Kodaira library', grant_types: ['authorization_code'], redirect_uris: [REDIRECT],
    first_party: true, service: 'library.loan',
  });
  rp = {
    ...made,
    config: await client.discovery(new URL(`${hub}/t/kodaira`), made.client_id, made.client_secret,
      client.ClientSecretBasic(made.client_secret), { execute: [client.allowInsecureRequests] }),
  };
});

test('discovery announces the certificate acr', () => {
  assert.deepEqual(rp.config.serverMetadata().acr_values_supported,
    ['urn:renkei:acr:password', CERT_ACR]);
});

test('acr_values asks for the certificate: no password form, the signed challenge logs in', async () => {
  const browser = new Browser();
  const flow = await authorize(browser, { acr_values: CERT_ACR });
  const html = await flow.res.text();
  assert.equal(flow.res.status, 200);
  assert.doesNotMatch(html, /type="password"/, 'a password cannot satisfy this request');
  const tokens = await exchange(flow, await certificateLogin(browser, html, 'alice'));
  const claims = tokens.claims();
  assert.equal(claims.acr, CERT_ACR);
  assert.deepEqual(claims.amr, ['pop']);
  assert.equal(claims.residency_verified, 'certificate');
});

test('a renewed certificate of the same person logs into the same account', async () => {
  const browser = new Browser();
  const flow = await authorize(browser, { acr_values: CERT_ACR });
  const first = await exchange(flow, await certificateLogin(browser, await flow.res.text(), 'alice'));
  const other = new Browser();
  const again = await authorize(other, { acr_values: CERT_ACR });
  const second = await exchange(again,
    await certificateLogin(other, await again.res.text(), 'alice-renewed'));
  assert.equal(second.claims().sub, first.claims().sub);
});

test('a password session steps up in place when an essential acr asks for it', async () => {
  const browser = new Browser();
  let flow = await authorize(browser);
  let html = await flow.res.text();
  const login = await browser.post(`${hub}/t/kodaira/login`, {
    tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username: 'alice', password: PASSWORD,
  });
  const first = await exchange(flow, login);
  assert.equal(first.claims().acr, 'urn:renkei:acr:password');

  const claims = JSON.stringify({ id_token: { acr: { essential: true, value: CERT_ACR } } });
  flow = await authorize(browser, { claims });
  html = await flow.res.text();
  assert.equal(flow.res.status, 200, 'the password session is not enough');
  const stepped = await exchange(flow, await certificateLogin(browser, html, 'alice'));
  assert.equal(stepped.claims().acr, CERT_ACR);
  assert.equal(stepped.claims().sid, first.claims().sid, 'the same SSO session, upgraded');
  assert.ok(stepped.claims().amr.includes('pwd') && stepped.claims().amr.includes('pop'));
});

test('revoked, expired, untrusted, unbound and chainless certificates are refused', async () => {
  for (const [name, chain] of [['revoked', true], ['expired', true], ['stranger', false],
    ['bob', true], ['alice', false]]) {
    const browser = new Browser();
    const flow = await authorize(browser, { acr_values: CERT_ACR });
    const res = await certificateLogin(browser, await flow.res.text(), name, { chain });
    assert.equal(res.status, 401, name);
    assert.equal(res.headers.get('location'), null, name);
    assert.match(await res.text(), /role="alert"/, name);
  }
});

test('a challenge signed for another browser does not log this one in', async () => {
  const victim = new Browser();
  const flow = await authorize(victim, { acr_values: CERT_ACR });
  const form = certificateForm(await flow.res.text());
  const response = sign('alice', form.challenge);
  const attacker = new Browser();
  const own = await authorize(attacker, { acr_values: CERT_ACR });
  const mine = certificateForm(await own.res.text());
  const res = await attacker.post(`${hub}/t/kodaira/login/certificate`, {
    tx: mine.tx, csrf: mine.csrf, challenge: form.challenge, certificate_response: response,
  });
  assert.equal(res.status, 401);
});
