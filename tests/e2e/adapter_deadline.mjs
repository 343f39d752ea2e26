// adapter_deadline.mjs — RegisterAdapter and EnableAdapter with a deadline shorter than an
// activation may take (adapter_deadline_test.sh starts the hub, a healthy sim, a sim with
// 800 ms of latency and a silent socket). The hub's answers are timed over raw HTTP/2 gRPC and
// over Connect JSON (neither client gives up on its own, so a late answer would show), and a
// stock client, @grpc/grpc-js with its own deadline, must get the PENDING answer, not an error.
// Messages are encoded with @grpc/proto-loader's serializers: no generated code.
// Usage: node adapter_deadline.mjs HUB_URL FAST_PORT SLOW_PORT SILENT_PORT
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const [hubUrl, fastPort, slowPort, silentPort] = process.argv.slice(2);
const token = process.env.RENKEI_ADMIN_TOKEN;
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const definition = protoLoader.loadSync('renkei/v1/admin.proto', {
  includeDirs: [protoRoot], enums: String, keepCase: true, longs: String, defaults: true,
});
const admin = definition['renkei.v1.AdminService'];
const endpoint = (port) => `http://127.0.0.1:${port}`;

// One gRPC call over HTTP/2 with grpc-timeout, timed; the client never gives up by itself.
function rawGrpc(method, request, grpcTimeout) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(hubUrl);
    session.on('error', reject);
    const message = admin[method].requestSerialize(request);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const started = Date.now();
    const stream = session.request({
      ':method': 'POST', ':path': `/renkei.v1.AdminService/${method}`,
      'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': grpcTimeout,
      authorization: `Bearer ${token}`,
    });
    const chunks = [];
    let status;
    stream.on('response', (headers) => { status ??= headers['grpc-status']; });
    stream.on('trailers', (trailers) => { status = trailers['grpc-status']; });
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const ms = Date.now() - started;
      session.close();
      const body = Buffer.concat(chunks);
      const response = body.length >= 5 ? admin[method].responseDeserialize(body.subarray(5)) : null;
      resolve({ status: Number(status), ms, state: response?.adapter?.state });
    });
    stream.end(frame);
  });
}

// One call in Connect JSON over HTTP/1.1 with connect-timeout-ms, timed.
async function connectJson(method, body, timeoutMs) {
  const started = Date.now();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  if (timeoutMs) headers['connect-timeout-ms'] = String(timeoutMs);
  const answer = await fetch(`${hubUrl}/renkei.v1.AdminService/${method}`, {
    method: 'POST', headers, body: JSON.stringify(body),
  });
  const json = await answer.json();
  return { ms: Date.now() - started, json };
}

async function stateOf(name) {
  const { json } = await connectJson('ListAdapters', { tenant: 'chofu' });
  return json.adapters.find((a) => a.name === name) ?? null;
}

// Polls until the adapter leaves PENDING, for at most 3 s.
async function outcome(name) {
  for (let i = 0; i < 60; i++) {
    const adapter = await stateOf(name);
    if (adapter && adapter.state !== 'ADAPTER_STATE_PENDING') return adapter;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return stateOf(name);
}

function withinDeadline(ms, deadline) {
  assert.ok(ms < deadline, `answered after ${ms} ms, past the deadline of ${deadline} ms`);
}

test('a healthy adapter is ACTIVE within a 300 ms deadline', async () => {
  const r = await rawGrpc('RegisterAdapter', { tenant: 'chofu', name: 'fast', endpoint: endpoint(fastPort) }, '300m');
  assert.equal(r.status, 0);
  assert.equal(r.state, 'ADAPTER_STATE_ACTIVE');
  withinDeadline(r.ms, 300);
});

test('an adapter slower than the deadline: PENDING before it, ACTIVE after the call', async () => {
  const r = await rawGrpc('RegisterAdapter', { tenant: 'chofu', name: 'slow', endpoint: endpoint(slowPort) }, '300m');
  assert.equal(r.status, 0);
  assert.equal(r.state, 'ADAPTER_STATE_PENDING');
  withinDeadline(r.ms, 300);
  assert.ok(r.ms >= 200, `PENDING came ${r.ms} ms in: only 50 ms before the deadline is expected`);
  assert.equal((await outcome('slow')).state, 'ADAPTER_STATE_ACTIVE');
});

test('a silent endpoint over Connect: PENDING, then FAILED after a full second of probing', async () => {
  const r = await connectJson('RegisterAdapter', { tenant: 'chofu', name: 'silent', endpoint: endpoint(silentPort) }, 300);
  assert.equal(r.json.adapter?.state, 'ADAPTER_STATE_PENDING', JSON.stringify(r.json));
  withinDeadline(r.ms, 300);
  const adapter = await outcome('silent');
  assert.equal(adapter.state, 'ADAPTER_STATE_FAILED');
  assert.match(adapter.lastError, /^Describe: deadline_exceeded: no answer from .* within 1000 ms$/);
});

test('EnableAdapter likewise; the same request and key again tell the outcome', async () => {
  await connectJson('DisableAdapter', { tenant: 'chofu', name: 'slow' });
  const request = { tenant: 'chofu', name: 'slow', idempotency_key: { key: 'enable-slow-1' } };
  const r = await rawGrpc('EnableAdapter', request, '400m');
  assert.equal(r.status, 0);
  assert.equal(r.state, 'ADAPTER_STATE_PENDING');
  withinDeadline(r.ms, 400);
  assert.equal((await outcome('slow')).state, 'ADAPTER_STATE_ACTIVE');
  const again = await rawGrpc('EnableAdapter', request, '5S');
  assert.equal(again.state, 'ADAPTER_STATE_ACTIVE');
});

test('less than 50 ms left: DEADLINE_EXCEEDED at once, and nothing is registered', async () => {
  const r = await rawGrpc('RegisterAdapter', { tenant: 'chofu', name: 'hasty', endpoint: endpoint(fastPort) }, '20m');
  assert.equal(r.status, grpc.status.DEADLINE_EXCEEDED);
  withinDeadline(r.ms, 20);
  assert.equal(await stateOf('hasty'), null);
});

test('without a tight deadline the call waits for the outcome', async () => {
  const r = await rawGrpc('RegisterAdapter', { tenant: 'chofu', name: 'slow-patient', endpoint: endpoint(slowPort) }, '1H');
  assert.equal(r.state, 'ADAPTER_STATE_ACTIVE');
  assert.ok(r.ms >= 700, `answered after ${r.ms} ms, before the adapter could`);
});

test('grpc-js with its own 300 ms deadline gets the PENDING answer, not an error', async () => {
  const Admin = grpc.loadPackageDefinition(definition).renkei.v1.AdminService;
  const client = new Admin(new URL(hubUrl).host, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const { err, reply } = await new Promise((resolve) => {
    client.RegisterAdapter({ tenant: 'chofu', name: 'slow-grpc-js', endpoint: endpoint(slowPort) },
      metadata, { deadline: Date.now() + 300 }, (e, out) => resolve({ err: e, reply: out }));
  });
  client.close();
  assert.equal(err, null, String(err));
  assert.equal(reply.adapter.state, 'ADAPTER_STATE_PENDING');
});
