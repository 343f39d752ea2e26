// connect_adapter.mjs — stock clients nobody here wrote against adapters built on the SDK
// (adapters/sdk) and against the hub: @connectrpc/connect-node in each of its protocols
// (Connect with JSON over HTTP/1.1 and with protobuf over HTTP/2, gRPC, gRPC-Web over HTTP/1.1
// and HTTP/2) and @grpc/grpc-js.
//   - renkei-adapter-sim: Describe, ListFacilities paging, a typed error with its reason,
//     health, UNIMPLEMENTED, a deadline under injected latency, a client's cancellation and
//     an outage. AdapterService has no streaming method, so there is no stream to test here.
//   - renkei-adapter-status (tests/e2e/status_adapter.c): every status code 1–16 with a UTF-8
//     message as each client sees it, and the HTTP status Connect maps it to; a response of
//     exactly 4 MiB; requests of exactly limits.message_bytes (4 MiB) and one byte more.
//   - the hub: the same request limit.
// Descriptors come from the .proto files through @grpc/proto-loader: no generated code.
// Usage: node connect_adapter.mjs SIM_URL SLOW_SIM_URL OUTAGE_FILE STATUS_URL HUB_URL
import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  createConnectTransport, createGrpcTransport, createGrpcWebTransport,
} from '@connectrpc/connect-node';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const [simUrl, slowSimUrl, outageFile, statusUrl, hubUrl] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const definition = protoLoader.loadSync(['renkei/v1/adapter.proto', 'grpc/health/v1/health.proto'],
  { includeDirs: [protoRoot], enums: String, keepCase: true, longs: String, defaults: true });

// Every file proto-loader read, as one registry for connect-node. protobufjs writes type names
// as the .proto spells them ("MunicipalityRef") and no JSON names; descriptors need the names
// fully qualified (".renkei.v1.MunicipalityRef", resolved the way protoc does, innermost scope
// first) and the JSON names protoc would give (lowerCamelCase).
const files = new Map();
for (const type of Object.values(definition)) {
  for (const bytes of type.fileDescriptorProtos ?? []) {
    const file = fromBinary(FileDescriptorProtoSchema, bytes);
    files.set(file.name, file);
  }
}
const known = new Set();
const collect = (scope, messages, enums) => {
  for (const e of enums) known.add(`${scope}.${e.name}`);
  for (const m of messages) {
    known.add(`${scope}.${m.name}`);
    collect(`${scope}.${m.name}`, m.nestedType, m.enumType);
  }
};
for (const f of files.values()) collect(f.package ? `.${f.package}` : '', f.messageType, f.enumType);
const qualify = (scope, name) => {
  if (name.startsWith('.')) return name;
  for (let s = scope; ; s = s.slice(0, s.lastIndexOf('.'))) {
    if (known.has(`${s}.${name}`)) return `${s}.${name}`;
    if (!s) throw new Error(`type ${name} not found from ${scope}`);
  }
};
const qualifyMessages = (scope, messages) => {
  for (const m of messages) {
    const inner = `${scope}.${m.name}`;
    for (const field of m.field) {
      if (field.typeName) field.typeName = qualify(inner, field.typeName);
      field.jsonName ||= field.name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    }
    qualifyMessages(inner, m.nestedType);
  }
};
for (const f of files.values()) {
  const scope = f.package ? `.${f.package}` : '';
  qualifyMessages(scope, f.messageType);
  for (const service of f.service) {
    for (const method of service.method) {
      method.inputType = qualify(scope, method.inputType);
      method.outputType = qualify(scope, method.outputType);
    }
  }
}
const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: [...files.values()] }));
const AdapterService = registry.getService('renkei.v1.AdapterService');
const Health = registry.getService('grpc.health.v1.Health');
const SERVING = 1;

const MIB4 = 4 * 1024 * 1024; // limits.message_bytes of the hub and the SDK, by default
const modes = {
  'Connect JSON over HTTP/1.1': (baseUrl) => createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false }),
  'Connect protobuf over HTTP/2': (baseUrl) => createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true }),
  'gRPC over HTTP/2': (baseUrl) => createGrpcTransport({ baseUrl }),
  'gRPC-Web over HTTP/1.1': (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: '1.1' }),
  'gRPC-Web over HTTP/2': (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: '2' }),
};

// The error a call ends with, as connect-node reports it (code, message, metadata).
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  return { code: 'no error' };
}

// A keyword that makes a request message of exactly `bytes` bytes: in protobuf one tag, a
// four-byte length and the text; in JSON {"keyword":"…"} (or {"service":"…"}).
function keywordFor(bytes, json) {
  return 'k'.repeat(json ? bytes - '{"keyword":""}'.length : bytes - 5);
}

const codeNames = ['ok', 'canceled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found',
  'already_exists', 'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted',
  'out_of_range', 'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated'];
// The Connect protocol's HTTP status for each code (connectrpc.com/docs/protocol#error-codes).
const connectHttp = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];
const statusMessage = (code) => `status ${code}: 施設 100% (asked)`;

for (const [mode, transportFor] of Object.entries(modes)) {
  const sim = createClient(AdapterService, transportFor(simUrl));
  const slowSim = createClient(AdapterService, transportFor(slowSimUrl));
  const status = createClient(AdapterService, transportFor(statusUrl));
  const json = mode.startsWith('Connect JSON');

  test(`${mode}: the sim's Describe, health and paged ListFacilities`, async () => {
    const d = await sim.describe({}, { timeoutMs: 5000 });
    assert.equal(d.municipality.code, '132080');
    assert.equal(d.contractVersion, 'renkei.v1');
    assert.ok(d.capabilities.length >= 3);
    const h = await createClient(Health, transportFor(simUrl)).check({ service: '' });
    assert.equal(h.status, SERVING);
    const first = await sim.listFacilities({ page: { pageSize: 7 } });
    assert.equal(first.facilities.length, 7);
    assert.ok(first.page.nextPageToken);
    const second = await sim.listFacilities({ page: { pageSize: 7, pageToken: first.page.nextPageToken } });
    assert.ok(second.facilities[0].id > first.facilities[6].id, 'the next page follows in id order');
  });

  test(`${mode}: a typed error carries its reason; a disabled capability is UNIMPLEMENTED`, async () => {
    const bad = await failure(sim.listFacilities({ page: { pageToken: 'garbage' } }));
    assert.equal(bad.code, Code.InvalidArgument);
    assert.equal(bad.metadata.get('renkei-error-reason'), 'ERROR_REASON_FIELD_INVALID');
    const off = await failure(slowSim.searchCatalogue({ title: 'こころ' }, { timeoutMs: 5000 }));
    assert.equal(off.code, Code.Unimplemented);
    assert.equal(off.metadata.get('renkei-error-reason'), 'ERROR_REASON_CAPABILITY_MISSING');
  });

  test(`${mode}: a deadline shorter than the owner's latency is DEADLINE_EXCEEDED`, async () => {
    const started = Date.now();
    const late = await failure(slowSim.describe({}, { timeoutMs: 200 }));
    assert.equal(late.code, Code.DeadlineExceeded);
    assert.ok(Date.now() - started < 700, 'the answer did not wait for the handler');
  });

  test(`${mode}: a call the client cancels ends CANCELED at once`, async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    const cancelled = await failure(slowSim.describe({}, { signal: abort.signal }));
    assert.equal(cancelled.code, Code.Canceled);
    assert.ok(Date.now() - started < 700);
  });

  test(`${mode}: during an outage every call is UNAVAILABLE with its reason`, async () => {
    writeFileSync(outageFile, 'down\n');
    try {
      const down = await failure(slowSim.listFacilities({}, { timeoutMs: 5000 }));
      assert.equal(down.code, Code.Unavailable);
      assert.equal(down.metadata.get('renkei-error-reason'), 'ERROR_REASON_OWNER_UNAVAILABLE');
    } finally {
      rmSync(outageFile, { force: true });
    }
  });

  test(`${mode}: every status code 1-16 arrives as sent, with its UTF-8 message`, async () => {
    for (let code = 1; code <= 16; code++) {
      const err = await failure(status.searchCatalogue({ keyword: `status:${code}` }));
      assert.equal(err.code, code, `status ${code} arrived as ${err.code}`);
      assert.equal(err.rawMessage, statusMessage(code));
    }
  });

  test(`${mode}: a response of exactly 4 MiB arrives whole`, async () => {
    const reply = await status.searchCatalogue({ keyword: `bytes:${MIB4}` }, { timeoutMs: 20000 });
    assert.ok(reply.records[0].recordId.length > MIB4 - 20);
  });

  test(`${mode}: a request of limits.message_bytes is read; one byte more is RESOURCE_EXHAUSTED`, async () => {
    const keyword = keywordFor(MIB4, json);
    const reply = await status.searchCatalogue({ keyword }, { timeoutMs: 20000 });
    assert.equal(reply.page.totalSize, keyword.length, 'the adapter read the whole keyword');
    const over = await failure(status.searchCatalogue({ keyword: `${keyword}k` }, { timeoutMs: 20000 }));
    assert.equal(over.code, Code.ResourceExhausted, `one byte over: ${over.code} ${over.rawMessage}`);
    const health = createClient(Health, transportFor(hubUrl));
    const service = keywordFor(MIB4, json); // {"service":"…"} is as long as {"keyword":"…"}
    const unknown = await failure(health.check({ service }, { timeoutMs: 20000 }));
    assert.equal(unknown.code, Code.NotFound, 'the hub read the whole request (an unknown service)');
    const hubOver = await failure(health.check({ service: `${service}k` }, { timeoutMs: 20000 }));
    assert.equal(hubOver.code, Code.ResourceExhausted, `the hub, one byte over: ${hubOver.code} ${hubOver.rawMessage}`);
  });
}

test('Connect maps each code to its HTTP status and JSON code name (raw fetch)', async () => {
  for (let code = 1; code <= 16; code++) {
    const answer = await fetch(`${statusUrl}/renkei.v1.AdapterService/SearchCatalogue`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keyword: `status:${code}` }),
    });
    const body = await answer.json();
    assert.equal(answer.status, connectHttp[code], `${codeNames[code]}: HTTP ${answer.status}`);
    assert.equal(body.code, codeNames[code]);
    assert.equal(body.message, statusMessage(code));
  }
});

test('grpc-js: every status code, a 4 MiB response, and the 4 MiB request limit', async () => {
  const Adapter = grpc.loadPackageDefinition(definition).renkei.v1.AdapterService;
  const client = new Adapter(new URL(statusUrl).host, grpc.credentials.createInsecure());
  const call = (request) => new Promise((resolve) => {
    client.SearchCatalogue(request, { deadline: Date.now() + 20000 }, (err, reply) => resolve({ err, reply }));
  });
  try {
    for (let code = 1; code <= 16; code++) {
      const { err } = await call({ keyword: `status:${code}` });
      assert.equal(err?.code, code, `status ${code} arrived as ${err?.code}`);
      assert.equal(err.details, statusMessage(code));
    }
    const big = await call({ keyword: `bytes:${MIB4}` }); // grpc-js accepts up to 4 MiB by default
    assert.equal(big.err, null, String(big.err));
    const keyword = keywordFor(MIB4, false);
    const read = await call({ keyword });
    assert.equal(read.reply.page.total_size, keyword.length);
    const over = await call({ keyword: `${keyword}k` });
    assert.equal(over.err?.code, grpc.status.RESOURCE_EXHAUSTED, String(over.err));
  } finally {
    client.close();
  }
});
