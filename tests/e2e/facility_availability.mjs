// facility_availability.mjs — a stock gRPC client (@grpc/grpc-js with @grpc/proto-loader) calls
// FacilityService.GetAvailability on the hub over h2c with its own deadline, while one of three
// owners hangs (facility_availability_test.sh starts the hub and the sims, and passes the hub
// ids of each city's facilities). The deadline travels as grpc-timeout; every call must come
// back OK within it, the hanging city TIMEOUT and the others OK. Prints the measured latencies.
// Usage: node facility_availability.mjs HUB_ADDRESS CHOFU_IDS KOMAE_IDS KIYOSE_IDS
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const [address, chofu, komae, kiyose] = process.argv.slice(2);
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
