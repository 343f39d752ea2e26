// auth.js — the portal as a public OpenID Connect client of the resident's home realm:
// authorization code with PKCE (S256), state, nonce and RFC 9207's iss checked at /callback;
// tokens kept in this tab's sessionStorage only (gone when the tab closes, never in
// localStorage); the access token refreshed while the SSO session lives; logout through the
// realm's end_session endpoint (RP-initiated logout), which ends the SSO session everywhere.

const SESSION_KEY = 'renkei.session';
const PENDING_KEY = 'renkei.login';
const SCOPE = 'openid profile';

let config = null; // /api/v1/portal: realms with their portal client ids, redirect URIs

export function init(portalConfig) {
  config = portalConfig;
}

const realmBySlug = (slug) => config.realms.find((r) => r.slug === slug);

// base64url of bytes, without padding.
function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

const randomText = (n = 32) => base64url(crypto.getRandomValues(new Uint8Array(n)));

// The claims of a JWT's payload (no signature check: the token came straight from the token
// endpoint of our own origin, OIDC Core §3.1.3.7 item 6).
function jwtClaims(token) {
  const part = token.split('.')[1] || '';
  const padded = part.replaceAll('-', '+').replaceAll('_', '/');
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function load(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

// The logged-in resident: {realm, name, home} or null.
export function resident() {
  const s = load(SESSION_KEY);
  if (!s) return null;
  return { realm: s.realm, name: s.claims.name || s.claims.preferred_username || '', home: s.claims.home_municipality };
}

// Realms whose portal client exists: where a resident can log in.
export const loginRealms = () => config.realms.filter((r) => r.client_id);

// Starts a login at realm slug; returnTo is the portal route to come back to.
export async function login(slug, returnTo, uiLocale) {
  const realm = realmBySlug(slug);
  if (!realm || !realm.client_id) throw new Error(`no portal client in realm ${slug}`);
  const verifier = randomText(32);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const pending = { realm: slug, verifier, state: randomText(16), nonce: randomText(16), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const params = new URLSearchParams({
    response_type: 'code', client_id: realm.client_id, redirect_uri: config.redirect_uri,
    scope: SCOPE, state: pending.state, nonce: pending.nonce, code_challenge: challenge,
    code_challenge_method: 'S256', ui_locales: uiLocale,
  });
  location.assign(`${realm.issuer}/authorize?${params}`);
}

async function tokenRequest(realm, fields) {
  const res = await fetch(`${realm.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: realm.client_id, ...fields }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error_description || body.error || `token endpoint: ${res.status}`);
  return body;
}

function store(slug, tokens, previous) {
  const idToken = tokens.id_token || previous?.id_token;
  const session = {
    realm: slug,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token || null,
    expires_at: Date.now() + (tokens.expires_in || 300) * 1000,
    id_token: idToken,
    claims: jwtClaims(idToken),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

// At /callback: finishes the login. Resolves to the route to show next; throws with a
// message when the answer is not ours or the realm refused.
export async function completeLogin(query) {
  const pending = load(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || query.get('state') !== pending.state) throw new Error('state');
  const realm = realmBySlug(pending.realm);
  if (query.get('iss') && query.get('iss') !== realm.issuer) throw new Error('iss');
  if (query.get('error')) throw new Error(query.get('error_description') || query.get('error'));
  const tokens = await tokenRequest(realm, {
    grant_type: 'authorization_code', code: query.get('code') || '',
    redirect_uri: config.redirect_uri, code_verifier: pending.verifier,
  });
  const claims = jwtClaims(tokens.id_token);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.nonce !== pending.nonce || claims.iss !== realm.issuer || !aud.includes(realm.client_id)) {
    throw new Error('id_token');
  }
  store(pending.realm, tokens, null);
  return pending.returnTo || '#/';
}

let refreshing = null;

// The access token, refreshed when it is about to expire; null when nobody is logged in (or
// the session ended elsewhere: the refresh is refused and the tab forgets the tokens).
export async function accessToken() {
  const s = load(SESSION_KEY);
  if (!s) return null;
  if (s.expires_at - Date.now() > 30000) return s.access_token;
  if (!s.refresh_token) {
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }
  refreshing ||= tokenRequest(realmBySlug(s.realm), { grant_type: 'refresh_token', refresh_token: s.refresh_token })
    .then((tokens) => { store(s.realm, tokens, s); return tokens.access_token; })
    .catch(() => { sessionStorage.removeItem(SESSION_KEY); return null; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

// Forgets the tokens and ends the SSO session at the realm, which comes back to the portal.
export function logout(uiLocale) {
  const s = load(SESSION_KEY);
  sessionStorage.removeItem(SESSION_KEY);
  if (!s) return;
  const realm = realmBySlug(s.realm);
  const params = new URLSearchParams({
    id_token_hint: s.id_token, client_id: realm.client_id,
    post_logout_redirect_uri: config.post_logout_redirect_uri, ui_locales: uiLocale,
  });
  location.assign(`${realm.issuer}/logout?${params}`);
}
