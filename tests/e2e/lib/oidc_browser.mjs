// oidc_browser.mjs — what the end-to-end tests of the hub's OpenID provider share: a browser
// made of fetch and a cookie jar (no JavaScript, follows no redirect by itself) that fills in
// the hub's own login and consent forms, and the steps of an authorization code flow driven by
// openid-client. Used by identity_code_flow.mjs and identity_registration.mjs.
import * as client from 'openid-client';
import assert from 'node:assert/strict';

// A browser: cookies per name, no JavaScript, follows nothing by itself.
export class Browser {
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
  async post(url, fields) {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

// The value of a hidden form field of a page.
export const hidden = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m && m[1].replaceAll('&amp;', '&');
};

// The flow's steps against the hub at base URL hub, for relying parties whose redirect URI is
// redirect. rp is { config } with an openid-client Configuration.
export function codeFlow(hub, redirect) {
  // Starts an authorization; returns the browser's first answer and what openid-client needs.
  async function authorize(browser, rp, extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const params = {
      redirect_uri: redirect, scope: 'openid profile email offline_access', state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256', ...extra,
    };
    for (const [k, v] of Object.entries(params)) if (v === undefined) delete params[k];
    const url = client.buildAuthorizationUrl(rp.config, params);
    const res = await browser.request(url);
    return { res, verifier, state: params.state, nonce, url };
  }

  async function fillLogin(browser, res, realm, username, password) {
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 300));
    assert.match(html, /name="username"[^>]*autocomplete="username"|autocomplete="username"[^>]*name="username"/);
    assert.match(html, /autocomplete="current-password"/);
    return browser.post(`${hub}/t/${realm}/login`, {
      tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), username, password,
    });
  }

  async function approveConsent(browser, res, realm) {
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /name="decision" value="approve"/, 'the consent page');
    return browser.post(`${hub}/t/${realm}/consent`, {
      tx: hidden(html, 'tx'), csrf: hidden(html, 'csrf'), decision: 'approve',
    });
  }

  async function exchange(rp, flow, res) {
    assert.ok([302, 303].includes(res.status), `expected a redirect, got ${res.status}`);
    const location = new URL(res.headers.get('location'));
    return client.authorizationCodeGrant(rp.config, location, {
      pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
  }

  // Logs a new browser in as username at rp and returns the tokens.
  async function signIn(rp, realm, username, password, { consent = false } = {}) {
    const browser = new Browser();
    const flow = await authorize(browser, rp);
    let res = await fillLogin(browser, flow.res, realm, username, password);
    if (consent) res = await approveConsent(browser, res, realm);
    return { browser, tokens: await exchange(rp, flow, res), flow };
  }

  return { authorize, fillLogin, approveConsent, exchange, signIn };
}
