// library_client.mjs — the load generator of tests/bench/library: catalogue searches through
// renkeid (LibraryService.SearchCatalogue over gRPC h2c with @grpc/grpc-js, anonymous, every
// library of the hub) and the same searches sent straight to the five zebrasrv (SRU GETs over
// kept-alive HTTP/1.1, the five at once, done when the last answers), each for SECONDS at
// CONCURRENCY searches in flight (the first second is warm-up, not counted).
//
// Usage: node library_client.mjs HUB_ADDRESS ZEBRA_URLS SECONDS KIND CONCURRENCY...
//   ZEBRA_URLS: the five databases' SRU URLs, comma-separated; KIND: isbn or keyword.
// Prints one line per path and concurrency:
//   path kind concurrency searches/s p50 p99 added_p50 added_p99 slowest_p50 slowest_p99 failures statuses_not_ok
// (ms; for the hub, added = the call's time at this client minus the largest latency_ms of its
// MunicipalityStatus list, slowest = that largest latency_ms; for zebrasrv "-").
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../e2e/package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, zebraUrls, seconds, kind, ...levels] = process.argv.slice(2);
const options = { includeDirs: [path.join(here, '../../proto')], enums: String, keepCase: true, longs: String, defaults: true };
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(['renkei/v1/library.proto'], options));
const hub = new pkg.renkei.v1.LibraryService(address, grpc.credentials.createInsecure());

// こころ (demo/japanese.xml in the Zebra catalogues; the sims hold other ISBNs and answer none),
// and an author's name every catalogue has (the sims' 夏目漱石, the Zebra demo's 夏目, 漱石).
const searches = {
  isbn: { request: { isbn: '9784101010137' }, cql: '(bath.isbn = "9784101010137" or bath.isbn = "4101010137")' },
  keyword: { request: { keyword: '夏目' }, cql: 'cql.serverChoice = "夏目"' },
};
const search = searches[kind];
if (!search) throw new Error(`kind must be isbn or keyword, not ${kind}`);
const zebras = zebraUrls.split(',');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function viaHub() {
  return new Promise((resolve) => hub.SearchCatalogue({ ...search.request, page: { page_size: 20 } },
    { deadline: Date.now() + 5000 }, (err, reply) => {
      if (err) return resolve({ ok: false });
      const slowest = Math.max(0, ...reply.statuses.map((s) => s.latency_ms));
      const notOk = reply.statuses.filter((s) => s.status !== 'ANSWER_STATUS_OK').length;
      resolve({ ok: reply.results.length > 0, slowest, notOk });
    }));
}

function zebra(url) {
  const q = `${url}?version=1.1&operation=searchRetrieve&recordSchema=marcxml&maximumRecords=20&query=${encodeURIComponent(search.cql)}`;
  return new Promise((resolve) => {
    http.get(q, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('numberOfRecords>')));
    }).on('error', () => resolve(false));
  });
}

async function direct() {
  const answers = await Promise.all(zebras.map(zebra));
  return { ok: answers.every(Boolean), notOk: answers.filter((a) => !a).length };
}

async function run(name, fn, concurrency) {
  const total = [], added = [], slowest = [];
  let failures = 0, notOk = 0;
  const end = Date.now() + Number(seconds) * 1000;
  const warm = Date.now() + 1000;
  async function worker() {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const r = await fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (Date.now() < warm) continue;
      if (!r.ok) { failures++; continue; }
      total.push(ms);
      notOk += r.notOk;
      if (r.slowest !== undefined) { slowest.push(r.slowest); added.push(ms - r.slowest); }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const at = (v, q) => {
    if (!v.length) return '-';
    v.sort((a, b) => a - b);
    return v[Math.min(v.length - 1, Math.floor(q * v.length))].toFixed(2);
  };
  const rate = total.length / (Number(seconds) - 1);
  console.log([name, kind, concurrency, rate.toFixed(1), at(total, 0.5), at(total, 0.99), at(added, 0.5),
    at(added, 0.99), at(slowest, 0.5), at(slowest, 0.99), failures, notOk].join(' '));
}

for (const c of levels.map(Number)) {
  await run('zebrasrv', direct, c);
  await run('renkeid', viaHub, c);
}
hub.close();
agent.destroy();
