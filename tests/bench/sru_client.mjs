// sru_client.mjs — the load generator of tests/bench/sru: the same catalogue searches through
// renkei-adapter-sru (a stock gRPC client, @grpc/grpc-js, over h2c) and straight to zebrasrv
// (SRU GETs over kept-alive HTTP/1.1 connections), each for SECONDS at CONCURRENCY searches in
// flight, cycling through ISBN, title (Japanese), author and keyword queries. Prints one line
// per run: path concurrency searches/s p50_ms p99_ms failures.
//
// Usage: node sru_client.mjs ADAPTER_ADDRESS ZEBRA_URL SECONDS CONCURRENCY...
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../e2e/package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, zebraUrl, seconds, ...levels] = process.argv.slice(2);
const options = { includeDirs: [path.join(here, '../../proto')], enums: String, keepCase: true, longs: String, defaults: true };
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(['renkei/v1/adapter.proto'], options));
const adapter = new pkg.renkei.v1.AdapterService(address, grpc.credentials.createInsecure());

const searches = [
  { request: { isbn: '9784101092058' }, cql: '(bath.isbn = "9784101092058" or bath.isbn = "4101092052")' },
  { request: { title: '人間' }, cql: 'dc.title = "人間"' },
  { request: { author: '太宰' }, cql: 'dc.creator = "太宰"' },
  { request: { keyword: 'computer' }, cql: 'cql.serverChoice = "computer"' },
];
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 }); // as the adapter's pool

function viaAdapter(i) {
  return new Promise((resolve) => adapter.SearchCatalogue(
    { ...searches[i % searches.length].request, page: { page_size: 20 } },
    { deadline: Date.now() + 5000 }, (err, reply) => resolve(!err && reply.records.length > 0)));
}

function direct(i) {
  const url = `${zebraUrl}?version=1.1&operation=searchRetrieve&recordSchema=marcxml&maximumRecords=20&query=${encodeURIComponent(searches[i % searches.length].cql)}`;
  return new Promise((resolve) => {
    http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 && /numberOfRecords>[1-9]/.test(body)));
    }).on('error', () => resolve(false));
  });
}

async function run(name, fn, concurrency) {
  const latencies = [];
  let failures = 0, n = 0;
  const end = Date.now() + Number(seconds) * 1000;
  const warm = Date.now() + 1000;
  async function worker() {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const ok = await fn(n++);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (Date.now() < warm) continue;
      if (ok) latencies.push(ms); else failures++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const rate = latencies.length / (Number(seconds) - 1);
  console.log(`${name} ${concurrency} ${rate.toFixed(0)} ${at(0.5).toFixed(2)} ${at(0.99).toFixed(2)} ${failures}`);
}

for (const c of levels.map(Number)) {
  await run('zebrasrv', direct, c);
  await run('adapter', viaAdapter, c);
}
adapter.close();
agent.destroy();
