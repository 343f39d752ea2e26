// grpc_interop.mjs — a stock gRPC client (@grpc/grpc-js with @grpc/proto-loader, which nobody
// here wrote) against the hub: health check, NOT_FOUND and UNIMPLEMENTED statuses, response
// metadata, over h2c or over TLS with ALPN. Usage: node grpc_interop.mjs ADDRESS [CA_FILE]
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';

const [address, caFile] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const definition = protoLoader.loadSync('grpc/health/v1/health.proto', {
  includeDirs: [protoRoot], enums: String, keepCase: true,
});
const health = grpc.loadPackageDefinition(definition).grpc.health.v1;
const credentials = caFile
  ? grpc.credentials.createSsl(readFileSync(caFile))
  : grpc.credentials.createInsecure();
const client = new health.Health(address, credentials);

function call(method, request, options = {}) {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    let headers;
    const c = client[method](request, metadata, { deadline: Date.now() + 5000, ...options },
      (err, reply) => resolve({ err, reply, headers }));
    c.on('metadata', (m) => { headers = m; });
  });
}

test('Check("") answers SERVING', async () => {
  const { err, reply, headers } = await call('Check', { service: '' });
  assert.equal(err, null);
  assert.equal(reply.status, 'SERVING');
  assert.match(headers.get('x-request-id')[0], /^[0-9a-f]{24}$/);
});

test('Check of the health service itself answers SERVING', async () => {
  const { err, reply } = await call('Check', { service: 'grpc.health.v1.Health' });
  assert.equal(err, null);
  assert.equal(reply.status, 'SERVING');
});

test('an unknown service is NOT_FOUND', async () => {
  const { err } = await call('Check', { service: 'no.such.Service' });
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.details, 'unknown service');
});

test('Watch streams SERVING and stops when the client cancels', async () => {
  const stream = client.Watch({ service: '' });
  const first = await new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  assert.equal(first.status, 'SERVING');
  const ended = new Promise((resolve) => stream.on('error', (e) => resolve(e.code)));
  stream.cancel();
  assert.equal(await ended, grpc.status.CANCELLED);
  const { err, reply } = await call('Check', { service: '' }); // the server is unharmed
  assert.equal(err, null);
  assert.equal(reply.status, 'SERVING');
});

test('Watch of an unknown service streams SERVICE_UNKNOWN and ends OK', async () => {
  const stream = client.Watch({ service: 'no.such.Service' });
  const messages = [];
  const code = await new Promise((resolve) => {
    stream.on('data', (m) => messages.push(m.status));
    stream.on('status', (s) => resolve(s.code));
    stream.on('error', () => {});
  });
  assert.deepEqual(messages, ['SERVICE_UNKNOWN']);
  assert.equal(code, grpc.status.OK);
});

test('an unknown method is UNIMPLEMENTED', async () => {
  const raw = new grpc.Client(address, credentials);
  const code = await new Promise((resolve) => {
    raw.makeUnaryRequest('/renkei.v1.Nothing/Here', (x) => x, (x) => x, Buffer.alloc(0),
      { deadline: Date.now() + 5000 }, (err) => resolve(err && err.code));
  });
  raw.close();
  assert.equal(code, grpc.status.UNIMPLEMENTED);
});

test('a deadline already past is DEADLINE_EXCEEDED', async () => {
  const { err } = await call('Check', { service: '' }, { deadline: Date.now() - 1 });
  assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
});

test('many concurrent calls on one connection all succeed', async () => {
  const replies = await Promise.all(Array.from({ length: 200 }, () => call('Check', { service: '' })));
  assert.equal(replies.filter((r) => r.err === null && r.reply.status === 'SERVING').length, 200);
});

test.after(() => client.close());
