// tests/bench/oidc-provider/adapter.mjs — the storage adapter of the reference provider in
// tests/bench/oidc: every model in one process-wide Map, honouring expiry, unbounded.
//
// oidc-provider's own development adapter cannot carry the benchmark: it is an LRU of 1,000
// entries (a run mints tens of thousands of codes, so codes and the session would be
// evicted before they are used), and it rebuilds a grant's member list on every token saved
// (quadratic when one session's grant mints every code). This one keeps what a production
// adapter keeps (a key per model and id, an index of sessions by uid, the members of each
// grant for revokeByGrantId) with O(1) work per call. It is still process memory: no network
// round trip, no durability — which favours oidc-provider against the hub's PostgreSQL.
const store = new Map(); // "Model:id" -> { payload, expiresAt (ms, Infinity when none) }
const sessionsByUid = new Map(); // session uid -> session id
const grantMembers = new Map(); // grantId -> Set of "Model:id"
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

const live = (key) => {
  const entry = store.get(key);
  if (entry && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry;
};

// Expired entries that nobody looks up again are dropped every 10 s.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt <= now) store.delete(key);
  }
}, 10_000).unref();

export default class BenchAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) sessionsByUid.set(payload.uid, id);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      let members = grantMembers.get(payload.grantId);
      if (!members) grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id) {
    return live(this.key(id))?.payload;
  }

  async findByUid(uid) {
    const id = sessionsByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode() {
    return undefined; // no device flow here
  }

  async consume(id) {
    const entry = live(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const key = this.key(id);
    const entry = store.get(key);
    store.delete(key);
    if (entry?.payload.uid && sessionsByUid.get(entry.payload.uid) === id) {
      sessionsByUid.delete(entry.payload.uid);
    }
    if (entry?.payload.grantId) grantMembers.get(entry.payload.grantId)?.delete(key);
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) store.delete(key);
    grantMembers.delete(grantId);
  }
}
