// facility_availability.mjs — a stock gRPC client (@grpc/grpc-js with @grpc/proto-loader) calls
// FacilityService.GetAvailability on the hub over h2c with its own deadline, while one of three
// owners hangs (facility_availability_test.sh starts the hub and the sims, and passes the hub
// ids of each city's facilities). The deadline travels as grpc-timeout; every call must come
// back OK within it, the hanging city TIMEOUT and the others OK. Prints the measured latencies.
// Then WatchAvailability as a server stream: the snapshot first (komae TIMEOUT), then, after a
// hold placed directly at chofu's owner system, a message with only that facility, its slot
// HELD; the stream ends OK by itself after facility.watch_max_ms.
// Usage: node facility_availability.mjs HUB_ADDRESS CHOFU_IDS KOMAE_IDS KIYOSE_IDS CHOFU_SIM_URL
//        CHOFU_OWNER_ID
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const [address, chofu, komae, kiyose, chofuSim, chofuOwnerId] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const definition = protoLoader.loadSync('renkei/v1/facility.proto', {
  includeDirs: [protoRoot], enums: String, keepCase: true, longs: String, defaults: true,
});
const FacilityService = grpc.loadPackageDefinition(definition).renkei.v1.FacilityService;
const client = new FacilityService(address, grpc.credentials.createInsecure());
const ids = [chofu, komae, kiyose].flatMap((list) => list.split(','));

function day(n) {
  const d = new Date(Date.now() + n * 86400e3);
  return `${d.toISOString().slice(0, 10)}T00:00:00Z`;
}

// Resolves {err, reply, ms}; never rejects.
function getAvailability(request, deadlineMs) {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    client.GetAvailability(request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
      (err, reply) => resolve({ err, reply, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

for (const deadline of [300, 600]) {
  test(`one owner hangs: every call answers within its ${deadline} ms deadline`, async () => {
    const latencies = [];
    for (let i = 0; i < 10; i++) {
      const window = { start: day(1 + (i % 5)), end: day(2 + (i % 5)) };
      const { err, reply, ms } = await getAvailability({ facility_ids: ids, window }, deadline);
      assert.equal(err, null, `call ${i}: ${err?.message}`);
      const status = Object.fromEntries(reply.statuses.map((s) => [s.municipality.slug, s.status]));
      assert.deepEqual(status, {
        chofu: 'ANSWER_STATUS_OK', komae: 'ANSWER_STATUS_TIMEOUT', kiyose: 'ANSWER_STATUS_OK',
      });
      assert.ok(reply.facilities.every((f) => f.owner.slug !== 'komae'));
      assert.equal(reply.facilities.length, chofu.split(',').length + kiyose.split(',').length);
      assert.ok(ms < deadline, `call ${i} took ${ms.toFixed(1)} ms, past its ${deadline} ms deadline`);
      latencies.push(ms);
    }
    latencies.sort((a, b) => a - b);
    console.log(`# deadline ${deadline} ms, komae hanging: p50 ${percentile(latencies, 0.5).toFixed(1)} ms,`
      + ` max ${latencies.at(-1).toFixed(1)} ms over ${latencies.length} calls`);
  });
}

test('bad input is INVALID_ARGUMENT naming the field, with a typed reason', async () => {
  const { err } = await getAvailability({ facility_ids: ids, window: { start: day(3), end: day(1) } }, 2000);
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /^window\.end: must be after window\.start$/);
  assert.equal(String(err.metadata.get('renkei-error-reason')[0]), 'ERROR_REASON_FIELD_INVALID');
  assert.equal(err.metadata.get('grpc-status-details-bin').length, 1);
});

// The next message of a stream, or its end ({end: status}).
function nextEvent(stream) {
  return new Promise((resolve) => {
    const onData = (data) => { done(); resolve({ data }); };
    const onStatus = (status) => { done(); resolve({ end: status }); };
    const onError = (error) => { done(); resolve({ error }); };
    const done = () => {
      stream.off('data', onData); stream.off('status', onStatus); stream.off('error', onError);
    };
    stream.on('data', onData); stream.on('status', onStatus); stream.on('error', onError);
  });
}

test('WatchAvailability: a snapshot, then only what changed, then the end', async () => {
  const hubId = chofu.split(',')[0];
  const window = { start: day(2), end: day(3) };
  const stream = client.WatchAvailability({ facility_ids: [hubId, komae.split(',')[0]], window });
  const first = await nextEvent(stream);
  assert.ok(first.data, `the snapshot: ${first.error?.message ?? JSON.stringify(first.end)}`);
  const status = Object.fromEntries(first.data.statuses.map((s) => [s.municipality.slug, s.status]));
  assert.deepEqual(status, { chofu: 'ANSWER_STATUS_OK', komae: 'ANSWER_STATUS_TIMEOUT' });
  assert.deepEqual(first.data.facilities.map((f) => f.facility_id), [hubId]);
  const free = first.data.facilities[0].slots.find((s) => s.status === 'SLOT_STATUS_AVAILABLE');
  assert.ok(free, 'a free slot at chofu');

  // Someone books at the owner's own counter: the next message carries that facility only.
  const held = await fetch(`${chofuSim}/renkei.v1.AdapterService/HoldSlot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      idempotencyKey: { key: 'counter-1' }, facilityId: chofuOwnerId, time: free.time,
      resident: { pairwiseId: 'counter', residencyClass: 'RESIDENCY_CLASS_RESIDENT' },
    }),
  });
  assert.equal(held.status, 200, await held.text());
  const started = Date.now();
  const change = await nextEvent(stream);
  assert.ok(change.data, `a change: ${change.error?.message ?? JSON.stringify(change.end)}`);
  assert.deepEqual(change.data.facilities.map((f) => f.facility_id), [hubId]);
  const slot = change.data.facilities[0].slots.find((s) => s.time.start === free.time.start);
  assert.equal(slot.status, 'SLOT_STATUS_HELD');
  assert.deepEqual(change.data.statuses, [], 'no owner changed its status');
  console.log(`# WatchAvailability: the change arrived ${Date.now() - started} ms after the hold`);

  let end;
  do { end = await nextEvent(stream); } while (end.data);
  assert.equal(end.end?.code, grpc.status.OK, `the stream ends OK: ${end.error?.message}`);
});
