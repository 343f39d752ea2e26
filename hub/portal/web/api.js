// api.js — the hub's FacilityService and LibraryService over Connect with JSON
// (POST /renkei.v1.FacilityService/…, /renkei.v1.LibraryService/…),
// the resident's bearer token when logged in, an Idempotency-Key on every change, and a
// deadline the hub honours (connect-timeout-ms): a city that does not answer in time comes back
// as a status of its own, never as a failed page. Answers follow the proto3 JSON mapping: a
// false, zero or empty field is absent (read `!x.mayBorrow`, never `x.mayBorrow === false`),
// enums are value names, 64-bit integers strings.
import { accessToken } from './auth.js';


export class RpcError extends Error {
  constructor(status, code, message, reason, localized) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'unknown';
    this.reason = reason || ''; // BookingError / ErrorReason value name, when the hub gave one
    this.localized = localized || null; // the ErrorDetail's LocalizedText {ja, en}, when given
  }
}

// A key for one change; reused when the same change is retried.
export const newIdempotencyKey = () => crypto.randomUUID();

// call('SearchFacilities', {...}, {key, login: true, timeoutMs, service}) → the answer's JSON.
export async function call(method, body, { key = null, login = false, timeoutMs = 8000, service = 'FacilityService' } = {}) {
  const headers = { 'content-type': 'application/json', 'connect-timeout-ms': String(timeoutMs) };
  const token = await accessToken();
  if (token) headers.authorization = `Bearer ${token}`;
  else if (login) throw new RpcError(401, 'unauthenticated', '', 'LOGIN_REQUIRED');
  if (key) headers['idempotency-key'] = key;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs + 2000);
  let res;
  try {
    res = await fetch(`/renkei.v1.${service}/${method}`, { method: 'POST', headers, body: JSON.stringify(body), signal: abort.signal });
  } catch {
    throw new RpcError(0, 'unavailable', '', 'NETWORK');
  } finally {
    clearTimeout(timer);
  }
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    throw new RpcError(res.status, answer?.code, answer?.message, res.headers.get('renkei-error-reason'),
      answer?.details?.[0]?.debug?.localizedMessage);
  }
  return answer || {};
}

let kinds = null;

// The facility kind taxonomy (ListFacilityKinds), asked once per page load.
export async function facilityKinds() {
  kinds ||= call('ListFacilityKinds', {}).then((a) => a.kinds || []).catch((e) => { kinds = null; throw e; });
  return kinds;
}
