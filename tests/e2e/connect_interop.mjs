// connect_interop.mjs — @connectrpc/connect-node, a stock client nobody here wrote, against the
// hub in each of its protocols: Connect with JSON over HTTP/1.1, Connect with binary protobuf
// over HTTP/2, gRPC, and gRPC-Web. Unary, a server stream, cancellation, a deadline, NOT_FOUND
// and UNIMPLEMENTED in every mode. The health service's descriptor is built here from its
// definition (proto/grpc/health/v1/health.proto), so no generated code is needed.
// Usage: node connect_interop.mjs BASE_URL
import { createFileRegistry, fromJson } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  createConnectTransport, createGrpcTransport, createGrpcWebTransport,
} from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import test from 'node:test';

const baseUrl = process.argv[2];

const field = (name, number, type, typeName) => ({
  name, number, label: 'LABEL_OPTIONAL', type, jsonName: name, ...(typeName ? { typeName } : {}),
});
const file = fromJson(FileDescriptorProtoSchema, {
  name: 'grpc/health/v1/health.proto',
  package: 'grpc.health.v1',
  syntax: 'proto3',
  messageType: [
    { name: 'HealthCheckRequest', field: [field('service', 1, 'TYPE_STRING')] },
    {
      name: 'HealthCheckResponse',
      field: [field('status', 1, 'TYPE_ENUM', '.grpc.health.v1.HealthCheckResponse.ServingStatus')],
      enumType: [{
        name: 'ServingStatus',
        value: ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'].map((name, number) => ({ name, number })),
      }],
    },
  ],
  service: [
    {
      name: 'Health',
      method: [
        { name: 'Check', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse' },
        { name: 'Watch', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse', serverStreaming: true },
      ],
    },
    { // a service the hub does not have
      name: 'Nothing',
      method: [{ name: 'Here', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse' }],
    },
  ],
});
const registry = createFileRegistry(file, () => undefined);
const Health = registry.getService('grpc.health.v1.Health');
const Nothing = registry.getService('grpc.health.v1.Nothing');
const SERVING = 1;
const SERVICE_UNKNOWN = 3;

const modes = {
  'Connect JSON over HTTP/1.1': createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false }),
  'Connect protobuf over HTTP/2': createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true }),
  'gRPC over HTTP/2': createGrpcTransport({ baseUrl }),
  'gRPC-Web over HTTP/1.1': createGrpcWebTransport({ baseUrl, httpVersion: '1.1' }),
};

async function codeOf(promise) {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

for (const [mode, transport] of Object.entries(modes)) {
  const health = createClient(Health, transport);
  test(`${mode}: Check answers SERVING`, async () => {
    const reply = await health.check({ service: '' }, { timeoutMs: 5000 });
    assert.equal(reply.status, SERVING);
  });
  test(`${mode}: an unknown service is NOT_FOUND`, async () => {
    assert.equal(await codeOf(health.check({ service: 'no.such.Service' })), Code.NotFound);
  });
  test(`${mode}: an unknown method is UNIMPLEMENTED`, async () => {
    const nothing = createClient(Nothing, transport);
    assert.equal(await codeOf(nothing.here({ service: '' })), Code.Unimplemented);
  });
  test(`${mode}: Watch streams SERVING and can be cancelled`, async () => {
    const abort = new AbortController();
    const seen = [];
    const code = await codeOf((async () => {
      for await (const reply of health.watch({ service: '' }, { signal: abort.signal })) {
        seen.push(reply.status);
        abort.abort();
      }
    })());
    assert.deepEqual(seen, [SERVING]);
    assert.equal(code, Code.Canceled);
  });
  test(`${mode}: Watch of an unknown service ends after SERVICE_UNKNOWN`, async () => {
    const seen = [];
    for await (const reply of health.watch({ service: 'no.such.Service' }, { timeoutMs: 5000 })) seen.push(reply.status);
    assert.deepEqual(seen, [SERVICE_UNKNOWN]);
  });
  test(`${mode}: a stream outliving its deadline is DEADLINE_EXCEEDED`, async () => {
    const code = await codeOf((async () => {
      for await (const _ of health.watch({ service: '' }, { timeoutMs: 400 })) { /* keep reading */ }
    })());
    assert.equal(code, Code.DeadlineExceeded);
  });
}
