// sim_grpc.mjs — a stock gRPC client (@grpc/grpc-js with @grpc/proto-loader, which nobody here
// wrote) against renkei-adapter-sim, an adapter built on librenkei-adapter.
//
// Usage: node sim_grpc.mjs main ADDRESS
//        node sim_grpc.mjs faults ADDRESS OUTAGE_FILE
//        node sim_grpc.mjs mtls ADDRESS CA CLIENT_CERT CLIENT_KEY OTHER_CERT OTHER_KEY
// sim_grpc_test.sh starts the sim with the matching configuration for each mode.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';

const [mode, address, ...files] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const options = { includeDirs: [protoRoot], enums: String, keepCase: true, longs: String, defaults: true };
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(
  ['renkei/v1/adapter.proto', 'grpc/health/v1/health.proto'], options));
const AdapterService = pkg.renkei.v1.AdapterService;
const Health = pkg.grpc.health.v1.Health;

function clients(credentials) {
  return {
    adapter: new AdapterService(address, credentials),
    health: new Health(address, credentials),
  };
}

// Resolves {err, reply}; never rejects, so tests assert on both.
function call(client, method, request, deadlineMs = 5000) {
  return new Promise((resolve) => {
    client[method](request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
      (err, reply) => resolve({ err, reply }));
  });
}

function reason(err) {
  const values = err?.metadata?.get('renkei-error-reason') ?? [];
  return values.length ? String(values[0]) : undefined;
}

const resident = {
  pairwise_id: 'sub-e2e-resident-1', residency_class: 'RESIDENCY_CLASS_RESIDENT',
};

async function listAll(adapter, change_token, page_size) {
  const pages = [];
  let page_token = '';
  for (let i = 0; i < 100; i++) {
    const { err, reply } = await call(adapter, 'ListFacilities', { change_token, page: { page_size, page_token } });
    assert.equal(err, null);
    pages.push(reply);
    page_token = reply.page.next_page_token;
    if (!page_token) return pages;
  }
  throw new Error('paging did not end');
}

// A free slot of a bookable facility between 2 and 9 days ahead (so that a confirmed booking
// can still be cancelled: cancellation closes 24 hours before the start).
async function freeSlot(adapter, exclude = new Set()) {
  const pages = await listAll(adapter, '', 100);
  const facilities = pages.flatMap((p) => p.facilities)
    .filter((f) => f.bookable_via_hub && !f.lottery && !exclude.has(f.id));
  const start = new Date(Date.now() + 2 * 86400e3);
  const end = new Date(Date.now() + 9 * 86400e3);
  const window = { start: start.toISOString().replace(/\.\d+Z$/, 'Z'), end: end.toISOString().replace(/\.\d+Z$/, 'Z') };
  for (let i = 0; i < facilities.length; i += 50) {
    const ids = facilities.slice(i, i + 50).map((f) => f.id);
    const { err, reply } = await call(adapter, 'GetAvailability', { facility_ids: ids, window, resident });
    assert.equal(err, null);
    for (const fa of reply.facilities) {
      const slot = fa.slots.find((s) => s.status === 'SLOT_STATUS_AVAILABLE');
      if (slot) return { facility: facilities.find((f) => f.id === fa.facility_id), slot };
    }
  }
  throw new Error('no free slot anywhere');
}

if (mode === 'main') {
  const { adapter, health } = clients(grpc.credentials.createInsecure());
  test.after(() => { adapter.close(); health.close(); });

  test('health Check answers SERVING; an unknown service is NOT_FOUND', async () => {
    let r = await call(health, 'Check', { service: '' });
    assert.equal(r.err, null);
    assert.equal(r.reply.status, 'SERVING');
    r = await call(health, 'Check', { service: 'renkei.v1.AdapterService' });
    assert.equal(r.reply.status, 'SERVING');
    r = await call(health, 'Check', { service: 'no.such.Service' });
    assert.equal(r.err.code, grpc.status.NOT_FOUND);
  });

  test('Describe names the municipality and every capability the table implements', async () => {
    const { err, reply } = await call(adapter, 'Describe', {});
    assert.equal(err, null);
    assert.equal(reply.municipality.code, '132080');
    assert.equal(reply.municipality.slug, 'chofu');
    assert.equal(reply.municipality.name.ja, '調布市');
    assert.equal(reply.contract_version, 'renkei.v1');
    assert.equal(reply.adapter_version, '0.1.0');
    assert.equal(reply.hold_ttl_seconds, 3);
    for (const c of ['FACILITY_CATALOGUE', 'FACILITY_AVAILABILITY', 'FACILITY_BOOKING',
      'LIBRARY_CATALOGUE', 'LIBRARY_PATRONS', 'LIBRARY_HOLDS', 'LIBRARY_LOANS', 'ELIBRARY']) {
      assert.ok(reply.capabilities.includes(`ADAPTER_CAPABILITY_${c}`), c);
    }
    assert.ok(reply.branches.length >= 1);
    assert.equal(reply.branches[0].branch_id, 'central');
  });

  test('ListFacilities pages in id order, then gives a change token for incremental sync', async () => {
    const pages = await listAll(adapter, '', 7);
    assert.ok(pages.length >= 5, `${pages.length} pages of 7`);
    const ids = pages.flatMap((p) => p.facilities.map((f) => f.id));
    assert.equal(new Set(ids).size, ids.length, 'no facility twice');
    assert.deepEqual([...ids].sort(), ids, 'in id order');
    assert.ok(ids.length >= 40);
    assert.ok(pages.every((p) => p.full_listing));
    const last = pages[pages.length - 1];
    assert.match(last.change_token, /^c1\./);
    assert.ok(pages.slice(0, -1).every((p) => !p.change_token), 'a token only on the last page');
    const f = pages[0].facilities[0];
    assert.ok(f.name.ja && f.name.en && f.name.kana, 'names in ja, en and kana');
    assert.ok(f.location.latitude > 35 && f.location.latitude < 36.5);
    assert.ok(f.fees.rates[0].resident_fee.amount > 0);
    assert.notEqual(f.kind, 'FACILITY_KIND_UNSPECIFIED');

    // The sim changes its catalogue every second (churn_interval_ms 1000).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const changes = await listAll(adapter, last.change_token, 100);
    assert.equal(changes[0].full_listing, false);
    const changed = changes.flatMap((p) => p.facilities).length +
      changes.flatMap((p) => p.removed_facility_ids).length;
    assert.ok(changed > 0 && changed < ids.length, `${changed} changes`);
    const next = changes[changes.length - 1].change_token;
    assert.notEqual(next, last.change_token);

    const unknown = await call(adapter, 'ListFacilities', { change_token: 'c1.00000000.1' });
    assert.equal(unknown.reply.full_listing, true, 'an unknown token gives a full listing');
    const badPage = await call(adapter, 'ListFacilities', { page: { page_token: 'garbage' } });
    assert.equal(badPage.err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(reason(badPage.err), 'ERROR_REASON_FIELD_INVALID');
  });

  test('GetAvailability answers slots in time order and refuses a window over 31 days', async () => {
    const pages = await listAll(adapter, '', 100);
    const ids = pages[0].facilities.slice(0, 3).map((f) => f.id);
    const now = Date.now();
    const window = { start: new Date(now).toISOString(), end: new Date(now + 7 * 86400e3).toISOString() };
    const { err, reply } = await call(adapter, 'GetAvailability', { facility_ids: ids, window });
    assert.equal(err, null);
    assert.equal(reply.facilities.length, 3);
    for (const fa of reply.facilities) {
      assert.ok(fa.slots.length > 0);
      const starts = fa.slots.map((s) => Date.parse(s.time.start));
      assert.deepEqual([...starts].sort((a, b) => a - b), starts);
      assert.ok(fa.slots.every((s) => s.facility_id === fa.facility_id && s.slot_id));
    }
    const statuses = new Set(reply.facilities.flatMap((fa) => fa.slots.map((s) => s.status)));
    assert.ok(statuses.has('SLOT_STATUS_AVAILABLE'));
    const long = await call(adapter, 'GetAvailability', {
      facility_ids: ids, window: { start: window.start, end: new Date(now + 40 * 86400e3).toISOString() },
    });
    assert.equal(long.err.code, grpc.status.INVALID_ARGUMENT);
  });

  test('HoldSlot → ConfirmBooking → GetBooking → CancelBooking, with idempotent replays', async () => {
    const { facility, slot } = await freeSlot(adapter);
    const hold = { idempotency_key: { key: 'e2e-booking-1' }, resident, facility_id: facility.id, time: slot.time, attendees: 1 };
    const held = await call(adapter, 'HoldSlot', hold);
    assert.equal(held.err, null);
    const b = held.reply.booking;
    assert.equal(b.state, 'OWNER_BOOKING_STATE_HELD');
    assert.equal(b.booking_key, 'e2e-booking-1');
    assert.equal(b.facility_id, facility.id);
    assert.ok(b.hold_expires_at);
    assert.equal(b.fee.amount, slot.fee.amount);

    const replay = await call(adapter, 'HoldSlot', hold);
    assert.equal(replay.err, null);
    assert.deepEqual(replay.reply, held.reply, 'same key, same request: the first answer');
    const reused = await call(adapter, 'HoldSlot', { ...hold, attendees: 2 });
    assert.equal(reused.err.code, grpc.status.ALREADY_EXISTS);
    assert.equal(reason(reused.err), 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED');
    const details = reused.err.metadata.get('grpc-status-details-bin');
    assert.equal(details.length, 1, 'the typed detail travels too');

    const other = { ...hold, idempotency_key: { key: 'e2e-booking-2' }, resident: { ...resident, pairwise_id: 'sub-e2e-other' } };
    const whileHeld = await call(adapter, 'HoldSlot', other);
    assert.equal(whileHeld.err.code, grpc.status.ABORTED);
    assert.equal(reason(whileHeld.err), 'BOOKING_ERROR_SLOT_HELD');

    const confirm = { idempotency_key: { key: 'e2e-booking-1' }, resident, owner_reference: b.owner_reference, accepted_fee: b.fee };
    const confirmed = await call(adapter, 'ConfirmBooking', confirm);
    assert.equal(confirmed.err, null);
    assert.equal(confirmed.reply.booking.state, 'OWNER_BOOKING_STATE_CONFIRMED');
    assert.deepEqual((await call(adapter, 'ConfirmBooking', confirm)).reply, confirmed.reply);

    const doubleBooked = await call(adapter, 'HoldSlot', { ...other, idempotency_key: { key: 'e2e-booking-3' } });
    assert.equal(doubleBooked.err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reason(doubleBooked.err), 'BOOKING_ERROR_SLOT_FULL');

    const byRef = await call(adapter, 'GetBooking', { owner_reference: b.owner_reference });
    assert.equal(byRef.reply.booking.state, 'OWNER_BOOKING_STATE_CONFIRMED');
    const byKey = await call(adapter, 'GetBooking', { booking_key: 'e2e-booking-1' });
    assert.equal(byKey.reply.booking.owner_reference, b.owner_reference);
    const missing = await call(adapter, 'GetBooking', { owner_reference: 'chofu-B999999' });
    assert.equal(missing.err.code, grpc.status.NOT_FOUND);

    const cancel = { idempotency_key: { key: 'e2e-booking-1' }, resident, owner_reference: b.owner_reference };
    const cancelled = await call(adapter, 'CancelBooking', cancel);
    assert.equal(cancelled.err, null);
    assert.equal(cancelled.reply.booking.state, 'OWNER_BOOKING_STATE_CANCELLED');
    assert.deepEqual((await call(adapter, 'CancelBooking', cancel)).reply, cancelled.reply);
    const again = await call(adapter, 'HoldSlot', { ...other, idempotency_key: { key: 'e2e-booking-4' } });
    assert.equal(again.err, null, 'the slot is free again after the cancellation');
  });

  test('a hold expires after hold_ttl_seconds and cannot be confirmed', async () => {
    const { facility, slot } = await freeSlot(adapter);
    const held = await call(adapter, 'HoldSlot', { idempotency_key: { key: 'e2e-expiry' }, resident, facility_id: facility.id, time: slot.time });
    assert.equal(held.err, null);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const late = await call(adapter, 'ConfirmBooking', { idempotency_key: { key: 'e2e-expiry' }, resident, owner_reference: held.reply.booking.owner_reference });
    assert.equal(late.err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reason(late.err), 'BOOKING_ERROR_HOLD_EXPIRED');
    const got = await call(adapter, 'GetBooking', { booking_key: 'e2e-expiry' });
    assert.equal(got.reply.booking.state, 'OWNER_BOOKING_STATE_EXPIRED');
  });

  test('library: search, holdings, verify a patron, place and list a hold, lend an e-book', async () => {
    const found = await call(adapter, 'SearchCatalogue', { author: '夏目', include_holdings: true });
    assert.equal(found.err, null);
    assert.ok(found.reply.records.length >= 3);
    const kokoro = found.reply.records.find((r) => r.work.title.ja === 'こころ');
    assert.match(kokoro.work.isbn13, /^978\d{10}$/);
    assert.ok(kokoro.holdings.length >= 1);
    const byIsbn = await call(adapter, 'GetHoldings', { isbn: kokoro.work.isbn13 });
    assert.equal(byIsbn.reply.records[0].record_id, kokoro.record_id);
    const wrongPin = await call(adapter, 'VerifyPatron', { idempotency_key: { key: 'e2e-link-0' }, resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1234567890', pin: '0000' });
    assert.equal(wrongPin.err.code, grpc.status.PERMISSION_DENIED);
    assert.equal(reason(wrongPin.err), 'LIBRARY_ERROR_PATRON_REJECTED');
    const patron = await call(adapter, 'VerifyPatron', { idempotency_key: { key: 'e2e-link-1' }, resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1234567890', pin: '7890' });
    assert.equal(patron.err, null);
    assert.equal(patron.reply.card_number_masked, '******7890');
    const patron_id = patron.reply.patron_id;
    const placed = await call(adapter, 'PlaceHold', { idempotency_key: { key: 'e2e-hold-1' }, resident, patron_id, record_id: kokoro.record_id, pickup_municipality: '132080', pickup_branch_id: 'central' });
    assert.equal(placed.err, null);
    assert.ok(['HOLD_STATE_READY', 'HOLD_STATE_WAITING'].includes(placed.reply.hold.state));
    const twice = await call(adapter, 'PlaceHold', { idempotency_key: { key: 'e2e-hold-2' }, resident, patron_id, record_id: kokoro.record_id, pickup_municipality: '132080', pickup_branch_id: 'central' });
    assert.equal(reason(twice.err), 'LIBRARY_ERROR_ALREADY_HELD');
    const holds = await call(adapter, 'ListHolds', { resident, patron_id });
    assert.equal(holds.reply.holds.length, 1);
    const ebooks = await call(adapter, 'SearchCatalogue', { keyword: 'Botchan', format: 'WORK_FORMAT_EBOOK' });
    const lent = await call(adapter, 'Checkout', { idempotency_key: { key: 'e2e-loan-1' }, resident, patron_id, record_id: ebooks.reply.records[0].record_id });
    assert.equal(lent.err, null);
    assert.equal(lent.reply.loan.elibrary, true);
    const returned = await call(adapter, 'ReturnLoan', { idempotency_key: { key: 'e2e-return-1' }, resident, patron_id, owner_reference: lent.reply.loan.owner_reference });
    assert.equal(returned.reply.loan.state, 'LOAN_STATE_RETURNED');
  });
}

if (mode === 'faults') {
  const [outageFile] = files;
  const { adapter, health } = clients(grpc.credentials.createInsecure());
  test.after(() => { adapter.close(); health.close(); });

  test('injected latency: a short deadline gets DEADLINE_EXCEEDED, a long one the answer', async () => {
    let t = Date.now();
    const short = await call(adapter, 'Describe', {}, 200);
    assert.equal(short.err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t < 700, 'the deadline answer did not wait for the handler');
    t = Date.now();
    const long = await call(adapter, 'Describe', {}, 5000);
    assert.equal(long.err, null);
    assert.ok(Date.now() - t >= 700, `latency ${Date.now() - t} ms`);
  });

  test('an outage file makes every call UNAVAILABLE and health NOT_SERVING, until removed', async () => {
    writeFileSync(outageFile, 'down\n');
    try {
      const down = await call(adapter, 'ListFacilities', {}, 5000);
      assert.equal(down.err.code, grpc.status.UNAVAILABLE);
      assert.equal(reason(down.err), 'ERROR_REASON_OWNER_UNAVAILABLE');
      const h = await call(health, 'Check', { service: '' });
      assert.equal(h.reply.status, 'NOT_SERVING');
    } finally {
      rmSync(outageFile, { force: true });
    }
    const h = await call(health, 'Check', { service: '' });
    assert.equal(h.reply.status, 'SERVING');
  });
}

if (mode === 'mtls') {
  const [ca, cert, key, otherCert, otherKey] = files.map((f) => readFileSync(f));
  test('without a client certificate the handshake is refused', async () => {
    const { health } = clients(grpc.credentials.createSsl(ca));
    const r = await call(health, 'Check', { service: '' }, 3000);
    health.close();
    assert.equal(r.err?.code, grpc.status.UNAVAILABLE, String(r.err));
  });

  test('a certificate from another CA is refused', async () => {
    const { health } = clients(grpc.credentials.createSsl(ca, otherKey, otherCert));
    const r = await call(health, 'Check', { service: '' }, 3000);
    health.close();
    assert.equal(r.err?.code, grpc.status.UNAVAILABLE, String(r.err));
  });

  test('a certificate from the configured CA gets in; unconfigured capabilities are UNIMPLEMENTED', async () => {
    const { adapter, health } = clients(grpc.credentials.createSsl(ca, key, cert));
    try {
      const h = await call(health, 'Check', { service: '' });
      assert.equal(h.err, null);
      assert.equal(h.reply.status, 'SERVING');
      const d = await call(adapter, 'Describe', {});
      assert.equal(d.err, null);
      assert.ok(d.reply.capabilities.includes('ADAPTER_CAPABILITY_FACILITY_BOOKING'));
      assert.ok(!d.reply.capabilities.some((c) => c.includes('LIBRARY')), 'library is off');
      const s = await call(adapter, 'SearchCatalogue', { title: 'こころ' });
      assert.equal(s.err.code, grpc.status.UNIMPLEMENTED);
      assert.equal(reason(s.err), 'ERROR_REASON_CAPABILITY_MISSING');
      const l = await call(adapter, 'ListFacilities', { page: { page_size: 5 } });
      assert.equal(l.err, null);
      assert.equal(l.reply.facilities.length, 5);
    } finally {
      adapter.close();
      health.close();
    }
  });
}
