// sru_grpc.mjs — a stock gRPC client (@grpc/grpc-js with @grpc/proto-loader) against
// renkei-adapter-sru in front of a real zebrasrv serving the demo catalogue of 清瀬市, with its
// circulation in PostgreSQL. sru_grpc_test.sh starts everything.
//
// Usage: node sru_grpc.mjs main ADAPTER_ADDRESS ZEBRA_URL   (ZEBRA_URL: http://127.0.0.1:P/kiyose)
//        node sru_grpc.mjs down ADAPTER_ADDRESS             (zebrasrv stopped)
//        node sru_grpc.mjs up ADAPTER_ADDRESS               (zebrasrv started again)
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';

const [mode, address, zebraUrl] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const options = { includeDirs: [protoRoot], enums: String, keepCase: true, longs: String, defaults: true };
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(
  ['renkei/v1/adapter.proto', 'grpc/health/v1/health.proto'], options));
const adapter = new pkg.renkei.v1.AdapterService(address, grpc.credentials.createInsecure());
const health = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());

function healthStatus() {
  return new Promise((resolve) => health.Check({}, { deadline: Date.now() + 2000 },
    (err, reply) => resolve(err ? `error ${err.code}` : reply.status)));
}

function call(method, request, deadlineMs = 5000) {
  return new Promise((resolve) => {
    const started = Date.now();
    adapter[method](request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
      (err, reply) => resolve({ err, reply, ms: Date.now() - started }));
  });
}

function reason(err) {
  const values = err?.metadata?.get('renkei-error-reason') ?? [];
  return values.length ? String(values[0]) : undefined;
}

async function ok(method, request) {
  const { err, reply } = await call(method, request);
  assert.equal(err, null, `${method}: ${err?.message}`);
  return reply;
}

async function refused(method, request, code, why) {
  const { err } = await call(method, request);
  assert.ok(err, `${method} should be refused`);
  assert.equal(err.code, code, `${method}: ${err.message}`);
  assert.equal(reason(err), why, err.message);
  return err;
}

// What zebrasrv itself says, to compare the adapter with: numberOfRecords and 952 count.
async function direct(cql) {
  const url = `${zebraUrl}?version=1.1&operation=searchRetrieve&recordSchema=marcxml&maximumRecords=50&query=${encodeURIComponent(cql)}`;
  const body = await (await fetch(url)).text();
  return {
    total: Number(/numberOfRecords>(\d+)</.exec(body)[1]),
    items: (body.match(/tag="952"/g) ?? []).length,
    body,
  };
}

const resident = { pairwise_id: 'sub-e2e-kiyose-1', residency_class: 'RESIDENCY_CLASS_RESIDENT' };
const byKey = (k) => ({ key: k });

if (mode === 'main') {
  test('Describe: the library catalogue and circulation, with the configured branches', async () => {
    const d = await ok('Describe', {});
    assert.equal(d.municipality.code, '132217');
    for (const c of ['ADAPTER_CAPABILITY_LIBRARY_CATALOGUE', 'ADAPTER_CAPABILITY_LIBRARY_PATRONS',
      'ADAPTER_CAPABILITY_LIBRARY_HOLDS', 'ADAPTER_CAPABILITY_LIBRARY_LOANS']) {
      assert.ok(d.capabilities.includes(c), c);
    }
    assert.deepEqual(d.branches.map((b) => b.branch_id), ['chuo', 'ekimae', 'shimojuku']);
    assert.equal(d.branches[0].name.ja, '清瀬市立中央図書館');
  });

  test('ISBN search: the Japanese record, its title and reading round-trip byte for byte', async () => {
    const r = await ok('SearchCatalogue', { isbn: '9784101092058', include_holdings: true });
    assert.equal(r.records.length, 1);
    const w = r.records[0].work;
    assert.equal(w.isbn13, '9784101092058');
    assert.equal(w.title.ja, '銀河鉄道の夜');
    assert.equal(Buffer.from(w.title.ja).toString('hex'), Buffer.from('銀河鉄道の夜').toString('hex'));
    assert.equal(w.title.kana, 'ギンガ テツドウ ノ ヨル');
    assert.equal(w.authors[0].name.ja, '宮沢, 賢治');
    assert.equal(w.authors[0].name.kana, 'ミヤザワ, ケンジ');
    assert.equal(w.publisher, '新潮社');
    assert.equal(w.year, 1989);
    assert.equal(w.ndc, '913.6');
    assert.equal(w.format, 'WORK_FORMAT_PRINT');
  });

  test('ISBN search: a record catalogued with its ISBN-10 is found by the ISBN-13', async () => {
    // 0839108826 in Zebra's MARC examples; 9780839108825 is its ISBN-13.
    const r = await ok('SearchCatalogue', { isbn: '9780839108825' });
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0].work.isbn13, '9780839108825');
    await refused('SearchCatalogue', { isbn: '9784101092059' }, grpc.status.INVALID_ARGUMENT, 'LIBRARY_ERROR_INVALID_ISBN');
  });

  test('title search in Japanese (a part of the title, and the reading in hiragana)', async () => {
    const byWord = await ok('SearchCatalogue', { title: '鉄道' });
    assert.deepEqual(byWord.records.map((x) => x.work.title.ja), ['銀河鉄道の夜']);
    const byReading = await ok('SearchCatalogue', { title: 'ぎんが てつどう' });
    assert.deepEqual(byReading.records.map((x) => x.work.title.ja), ['銀河鉄道の夜']);
    const direct1 = await direct('dc.title = "人間"');
    const both = await ok('SearchCatalogue', { title: '人間' });
    assert.equal(both.records.length, direct1.total);
    assert.ok(both.records.every((x) => x.work.title.ja.includes('人間')));
  });

  test('author, keyword and subject (NDC prefix) searches', async () => {
    const dazai = await ok('SearchCatalogue', { author: '太宰' });
    assert.ok(dazai.records.length >= 2);
    assert.ok(dazai.records.every((x) => x.work.authors[0].name.ja === '太宰, 治'));
    const kw = await ok('SearchCatalogue', { keyword: 'computer' });
    assert.equal(kw.page.total_size, (await direct('cql.serverChoice = "computer"')).total);
    assert.ok(kw.records.length > 1);
    const ndc = await ok('SearchCatalogue', { subject: '913' });
    assert.ok(ndc.records.length > 5);
    assert.ok(ndc.records.every((x) => x.work.ndc.startsWith('913')), 'only NDC 913.x');
    const both = await ok('SearchCatalogue', { author: '太宰', title: '走れ' });
    assert.deepEqual(both.records.map((x) => x.work.title.ja), ['走れメロス']);
  });

  test('CQL injection through the search text matches nothing more than the text', async () => {
    const all = (await direct('cql.allRecords = 1')).total;
    assert.ok(all > 20);
    // As a wildcard, comput* would match "computer" (it does when sent to zebrasrv as CQL).
    assert.ok((await direct('dc.title = "comput*"')).total > 0);
    for (const title of ['x" or cql.allRecords = 1 or dc.title = "y', '*', 'comput*', '銀河" or "1"="1', '\\" or rec.id="1001']) {
      const { err, reply } = await call('SearchCatalogue', { title });
      if (err) {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      } else {
        assert.ok(reply.page.total_size < all, `${title}: ${reply.page.total_size} of ${all}`);
        assert.equal(reply.records.length, 0, title);
      }
    }
    await refused('SearchCatalogue', { title: 'ab\u0001cd' }, grpc.status.INVALID_ARGUMENT, 'ERROR_REASON_FIELD_INVALID');
    await refused('SearchCatalogue', {}, grpc.status.INVALID_ARGUMENT, 'ERROR_REASON_FIELD_INVALID');
  });

  test('paging over SRU startRecord', async () => {
    const first = await ok('SearchCatalogue', { keyword: 'computer', page: { page_size: 2 } });
    assert.equal(first.records.length, 2);
    assert.ok(first.page.next_page_token);
    const second = await ok('SearchCatalogue', { keyword: 'computer', page: { page_size: 2, page_token: first.page.next_page_token } });
    assert.equal(second.records.length, 2);
    assert.notEqual(second.records[0].record_id, first.records[0].record_id);
    await refused('SearchCatalogue', { keyword: 'computer', page: { page_token: 'nope' } }, grpc.status.INVALID_ARGUMENT, 'ERROR_REASON_FIELD_INVALID');
  });

  test('GetHoldings: every 952 copy, per branch, with names, call numbers and shelf states', async () => {
    const found = await ok('SearchCatalogue', { isbn: '9784101092058' });
    const id = found.records[0].record_id;
    const h = await ok('GetHoldings', { record_ids: [id] });
    const z = await direct(`rec.id = "${id}"`);
    assert.equal(h.records[0].holdings.length, z.items);
    const names = { chuo: '清瀬市立中央図書館', ekimae: '清瀬市立駅前図書館', shimojuku: '清瀬市立下宿図書館' };
    for (const item of h.records[0].holdings) {
      assert.equal(item.library.code, '132217');
      assert.equal(item.branch_name.ja, names[item.branch_id]);
      assert.match(item.call_number, /^913\.6\/ミ$/);
      assert.notEqual(item.status, 'HOLDING_STATUS_UNSPECIFIED');
      if (item.status === 'HOLDING_STATUS_ON_LOAN') assert.match(item.due_date, /^\d{4}-\d{2}-\d{2}$/);
    }
    const byIsbn = await ok('GetHoldings', { isbn: '9784101092058' });
    assert.equal(byIsbn.records[0].record_id, id);
    await refused('GetHoldings', { record_ids: ['1" or rec.id="2'] }, grpc.status.INVALID_ARGUMENT, 'ERROR_REASON_FIELD_INVALID');
  });

  let patron;
  test('VerifyPatron: card and PIN (hashed in PostgreSQL), wrong PIN refused', async () => {
    const v = await ok('VerifyPatron', { idempotency_key: byKey('link-1'), resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1322170001', pin: '1234' });
    assert.match(v.patron_id, /^P[0-9a-f]{16}$/);
    assert.equal(v.card_number_masked, '******0001');
    patron = v.patron_id;
    await refused('VerifyPatron', { idempotency_key: byKey('link-2'), resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1322170001', pin: '9999' },
      grpc.status.PERMISSION_DENIED, 'LIBRARY_ERROR_PATRON_REJECTED');
    await refused('VerifyPatron', { idempotency_key: byKey('link-2b'), resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1322179999', pin: '1234' },
      grpc.status.PERMISSION_DENIED, 'LIBRARY_ERROR_PATRON_REJECTED');
    await refused('VerifyPatron', { idempotency_key: byKey('link-2c'), resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '13221-70001', pin: '1234' },
      grpc.status.INVALID_ARGUMENT, 'ERROR_REASON_FIELD_INVALID');
    const cert = await ok('VerifyPatron', { idempotency_key: byKey('link-3'), resident, method: 'PATRON_LINK_METHOD_CERTIFICATE' });
    const again = await ok('VerifyPatron', { idempotency_key: byKey('link-4'), resident, method: 'PATRON_LINK_METHOD_CERTIFICATE' });
    assert.equal(cert.patron_id, again.patron_id);
  });

  test('PlaceHold: a copy on the shelf is set aside (READY), listed, shown RESERVED; replay is idempotent', async () => {
    // A record with a copy on the shelf at 清瀬.
    const search = await ok('SearchCatalogue', { keyword: 'computer', include_holdings: true, page: { page_size: 50 } });
    const rec = search.records.find((r) => r.holdings.some((h) => h.status === 'HOLDING_STATUS_AVAILABLE'));
    assert.ok(rec, 'a record with a copy on the shelf');
    const request = { idempotency_key: byKey('hold-1'), resident, patron_id: patron, record_id: rec.record_id, pickup_municipality: '132217', pickup_branch_id: 'ekimae' };
    const placed = await ok('PlaceHold', request);
    assert.equal(placed.hold.state, 'HOLD_STATE_READY');
    assert.equal(placed.hold.pickup_branch_id, 'ekimae');
    assert.match(placed.hold.expires_at, /Z$/);
    const replay = await ok('PlaceHold', request);
    assert.equal(replay.hold.owner_reference, placed.hold.owner_reference);
    await refused('PlaceHold', { ...request, pickup_branch_id: 'chuo' }, grpc.status.ALREADY_EXISTS, 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED');
    await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-2') }, grpc.status.ALREADY_EXISTS, 'LIBRARY_ERROR_ALREADY_HELD');
    const list = await ok('ListHolds', { resident, patron_id: patron });
    assert.deepEqual(list.holds.map((h) => h.owner_reference), [placed.hold.owner_reference]);
    assert.equal(list.holds[0].work.title.ja, rec.work.title.ja);
    const after = await ok('GetHoldings', { record_ids: [rec.record_id] });
    const reserved = after.records[0].holdings.filter((h) => h.status === 'HOLDING_STATUS_RESERVED');
    assert.equal(reserved.length, 1);
    // A partner city's branch is allowed; a city outside the agreements is not; unknown branch.
    const partner = await ok('PlaceHold', { ...request, idempotency_key: byKey('hold-3'), record_id: (await ok('SearchCatalogue', { isbn: '9784101092058' })).records[0].record_id, pickup_municipality: '132110', pickup_branch_id: 'chuo' });
    assert.equal(partner.hold.pickup_municipality, '132110');
    await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-4'), pickup_municipality: '132080', pickup_branch_id: 'chuo' },
      grpc.status.FAILED_PRECONDITION, 'LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED');
    const partnerResident = { pairwise_id: 'sub-e2e-kodaira-1', residency_class: 'RESIDENCY_CLASS_PARTNER_AREA', home_municipality: { code: '132110', slug: 'kodaira' } };
    const notHere = await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-8'), resident: partnerResident, pickup_branch_id: 'shimojuku' },
      grpc.status.FAILED_PRECONDITION, 'LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED');
    assert.match(notHere.details, /agreement's pickup branches: chuo, ekimae/);
    await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-5'), pickup_branch_id: 'nowhere' },
      grpc.status.INVALID_ARGUMENT, 'LIBRARY_ERROR_UNKNOWN_BRANCH');
    await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-6'), record_id: '999999' },
      grpc.status.NOT_FOUND, 'ERROR_REASON_NOT_FOUND');
    await refused('PlaceHold', { ...request, idempotency_key: byKey('hold-7'), patron_id: 'Pnobody' },
      grpc.status.FAILED_PRECONDITION, 'LIBRARY_ERROR_PATRON_NOT_LINKED');
  });

  test('holds queue: more holds than copies on the shelf wait in order; a cancelled READY hold hands its copy on', async () => {
    const search = await ok('SearchCatalogue', { subject: '913', include_holdings: true, page: { page_size: 50 } });
    const rec = search.records.find((r) => r.holdings.some((h) => h.status === 'HOLDING_STATUS_AVAILABLE'));
    const n = rec.holdings.filter((h) => h.status === 'HOLDING_STATUS_AVAILABLE').length;
    const holds = [];
    for (let i = 0; i <= n; i++) {
      const p = await ok('VerifyPatron', { idempotency_key: byKey(`queue-link-${i}`), resident: { ...resident, pairwise_id: `sub-queue-${i}` }, method: 'PATRON_LINK_METHOD_CERTIFICATE' });
      const placed = await ok('PlaceHold', { idempotency_key: byKey(`queue-${i}`), resident, patron_id: p.patron_id, record_id: rec.record_id, pickup_municipality: '132217', pickup_branch_id: 'shimojuku' });
      holds.push({ patron: p.patron_id, hold: placed.hold });
    }
    assert.deepEqual(holds.map((h) => h.hold.state), [...Array(n).fill('HOLD_STATE_READY'), 'HOLD_STATE_WAITING']);
    assert.equal(holds[n].hold.queue_position, 1);
    const shown = (await ok('GetHoldings', { record_ids: [rec.record_id] })).records[0].holdings;
    assert.equal(shown.filter((h) => h.status === 'HOLDING_STATUS_RESERVED').length, n);
    assert.ok(shown.every((h) => h.hold_queue_length === 1));
    const cancelled = await ok('CancelHold', { idempotency_key: byKey('queue-cancel-0'), resident, patron_id: holds[0].patron, owner_reference: holds[0].hold.owner_reference });
    assert.equal(cancelled.hold.state, 'HOLD_STATE_CANCELLED');
    const last = await ok('ListHolds', { resident, patron_id: holds[n].patron });
    assert.equal(last.holds[0].state, 'HOLD_STATE_READY', 'the waiting hold got the copy');
    await refused('CancelHold', { idempotency_key: byKey('queue-cancel-x'), resident, patron_id: holds[1 % (n + 1)].patron, owner_reference: holds[0].hold.owner_reference },
      grpc.status.NOT_FOUND, 'ERROR_REASON_NOT_FOUND');
  });

  test('Checkout of the READY copy fulfils the hold; Renew; ReturnLoan; someone else\'s loan is not found', async () => {
    const holds = await ok('ListHolds', { resident, patron_id: patron });
    const ready = holds.holds.find((h) => h.state === 'HOLD_STATE_READY');
    const rec = (await ok('GetHoldings', { record_ids: [ready.record_id] })).records[0];
    const copy = rec.holdings.find((h) => h.status === 'HOLDING_STATUS_RESERVED');
    const lent = await ok('Checkout', { idempotency_key: byKey('loan-1'), resident, patron_id: patron, item_id: copy.item_id, branch_id: copy.branch_id });
    assert.equal(lent.loan.state, 'LOAN_STATE_ACTIVE');
    assert.equal(lent.loan.item_id, copy.item_id);
    const left = await ok('ListHolds', { resident, patron_id: patron });
    assert.ok(!left.holds.some((h) => h.owner_reference === ready.owner_reference), 'the hold is fulfilled');
    const shown = (await ok('GetHoldings', { record_ids: [ready.record_id] })).records[0].holdings.find((h) => h.item_id === copy.item_id);
    assert.equal(shown.status, 'HOLDING_STATUS_ON_LOAN');
    assert.equal(shown.due_date, lent.loan.due_date);
    const renewed = await ok('Renew', { idempotency_key: byKey('loan-1:r1'), resident, patron_id: patron, owner_reference: lent.loan.owner_reference });
    assert.equal(renewed.loan.renewals, 1);
    const loans = await ok('ListLoans', { resident, patron_id: patron });
    assert.deepEqual(loans.loans.map((l) => l.owner_reference), [lent.loan.owner_reference]);
    const stranger = await ok('VerifyPatron', { idempotency_key: byKey('link-5'), resident, method: 'PATRON_LINK_METHOD_CARD_AND_PIN', card_number: '1322170002', pin: '5678' });
    await refused('ReturnLoan', { idempotency_key: byKey('ret-x'), resident, patron_id: stranger.patron_id, owner_reference: lent.loan.owner_reference },
      grpc.status.NOT_FOUND, 'ERROR_REASON_NOT_FOUND');
    const back = await ok('ReturnLoan', { idempotency_key: byKey('ret-1'), resident, patron_id: patron, owner_reference: lent.loan.owner_reference });
    assert.equal(back.loan.state, 'LOAN_STATE_RETURNED');
    assert.match(back.loan.returned_at, /Z$/);
    const cancel = await ok('CancelHold', { idempotency_key: byKey('cancel-1'), resident, patron_id: patron, owner_reference: holds.holds.find((h) => h.pickup_municipality === '132110').owner_reference });
    assert.equal(cancel.hold.state, 'HOLD_STATE_CANCELLED');
  });
}

if (mode === 'down') {
  test('zebrasrv stopped: UNAVAILABLE at once with a message naming the catalogue server', async () => {
    const { err, ms } = await call('SearchCatalogue', { title: '銀河' }, 10000);
    assert.ok(err);
    assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    assert.equal(reason(err), 'LIBRARY_ERROR_OWNER_UNAVAILABLE');
    assert.match(err.details, /catalogue server \(SRU\) at 127\.0\.0\.1:\d+/);
    assert.ok(ms < 3000, `answered in ${ms} ms`);
    assert.equal(await healthStatus(), 'NOT_SERVING');
  });
}

if (mode === 'up') {
  test('zebrasrv back: health returns to SERVING by itself (probe) and searches answer again', async () => {
    let status;
    for (let i = 0; i < 40 && status !== 'SERVING'; i++) {
      status = await healthStatus();
      if (status !== 'SERVING') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 'SERVING');
    const r = await ok('SearchCatalogue', { title: '銀河' });
    assert.equal(r.records[0].work.title.ja, '銀河鉄道の夜');
  });
}
