'use strict';
// loop-delay -- how long one large SELECT holds the event loop, and how
// fast and in how much memory its rows are read, pgatomic beside
// node-postgres (`pg`), in one run:
//
//   scripts/pgtmp run -- node bench/node/loop-delay.js [--rows 1000000] [--repeat 5]
//       [--clients pg,pgatomic,pg-query-stream,pgatomic-stream] [--stream-rows 10000000]
//
// Clients: `pg` and `pgatomic` read the whole result (client.query,
// db.query); `pg-query-stream` iterates pg's QueryStream (pg-cursor, a
// portal fetched 1000 rows at a time), `pgatomic-stream` iterates
// db.stream() (batches of 1000), `pgatomic-pg-query-stream` the same
// QueryStream on pgatomic/pg's Client.  Each repetition runs each client
// in a fresh child process, alternating, so all see the same machine
// load.  A child connects, warms up with a small query, then reads the
// SELECT's rows while perf_hooks.monitorEventLoopDelay samples the loop
// every millisecond; it reports the longest delay seen (the longest time
// the loop was held), the 99th percentile, the read's wall time, the CPU
// time the process spent on it (user + system, all its threads: less
// dependent on the machine's load than the wall time) and the process's
// peak RSS.  With --stream-rows N (0: skip), the streaming
// clients then read N rows once each (peak RSS).  Prints a table and one
// JSON line; writes bench/results/loop-delay.json.  No asserts: a timing is
// a measurement, never a test (PROJECT.md).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const DEFAULT_CLIENTS = ['pg', 'pgatomic', 'pg-query-stream', 'pgatomic-stream'];
const STREAMING = new Set(['pg-query-stream', 'pgatomic-stream', 'pgatomic-pg-query-stream']);
const BATCH = 1000;
const sql = (rows) => `SELECT g AS id, 'name ' || g AS name, g * 1.5::float8 AS score,
  now() AS at FROM generate_series(1, ${rows}) g`;

// pg from the bench's peers (bench/run.sh installs them), else the
// package's devDependency.
function requirePeer(name) {
  for (const dir of [path.join(__dirname, '..', '.peers', 'node', 'node_modules', name), name]) {
    try {
      return require(dir);
    } catch (e) { /* next */ }
  }
  throw new Error(`${name} is not installed: run bash bench/run.sh or npm install`);
}

// read(sql) -> Promise<number of rows read>.
async function open(client) {
  if (client === 'pg' || client === 'pg-query-stream' || client === 'pgatomic-pg-query-stream') {
    const pg = client === 'pgatomic-pg-query-stream' ? require('../../node/pg') : requirePeer('pg');
    const c = new pg.Client();
    await c.connect();
    const close = () => c.end();
    if (client === 'pg') return { read: async (q) => (await c.query(q)).rows.length, close };
    const QueryStream = requirePeer('pg-query-stream');
    return {
      read: async (q) => {
        let n = 0;
        for await (const row of c.query(new QueryStream(q, [], { batchSize: BATCH }))) if (row) n++;
        return n;
      },
      close,
    };
  }
  const db = require('../../node').connect(undefined, { max: 1 });
  const close = () => db.close();
  if (client === 'pgatomic') return { read: async (q) => (await db.query(q)).rows.length, close };
  return {
    read: async (q) => {
      let n = 0;
      for await (const row of db.stream(q, [], { batchSize: BATCH })) if (row) n++;
      return n;
    },
    close,
  };
}

async function child(client, rows) {
  const { monitorEventLoopDelay } = require('perf_hooks');
  const c = await open(client);
  await c.read(sql(1000));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const n = await c.read(sql(rows));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  // One more turn, so that a hold just before the promise settled is seen.
  await new Promise((resolve) => setTimeout(resolve, 20));
  h.disable();
  if (n !== rows) throw new Error(`${client}: ${n} rows`);
  await c.close();
  return {
    client, rows, wallMs, cpuMs: (cpu.user + cpu.system) / 1000,
    maxDelayMs: h.max / 1e6, p99DelayMs: h.percentile(99) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  if (args[0] === '--child') {
    child(args[1], Number(args[2])).then((r) => process.stdout.write(JSON.stringify(r)),
      (e) => { console.error(e); process.exit(1); });
    return;
  }
  const rows = opt('rows', 1000000);
  const repeat = opt('repeat', 5);
  const streamRows = opt('stream-rows', 0);
  const i = args.indexOf('--clients');
  const clients = i >= 0 ? args[i + 1].split(',') : DEFAULT_CLIENTS;
  const loadStart = os.loadavg()[0];
  const runChild = (client, n) => JSON.parse(execFileSync(process.execPath,
    [__filename, '--child', client, String(n)],
    { maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] }));
  const runs = [];
  for (let k = 0; k < repeat; k++) {
    for (const client of clients) {
      const r = runChild(client, rows);
      runs.push(r);
      console.log(`${client.padEnd(24)} run ${k + 1}: longest hold ${r.maxDelayMs.toFixed(0).padStart(5)} ms, ` +
        `p99 ${r.p99DelayMs.toFixed(1).padStart(6)} ms, read ${r.wallMs.toFixed(0).padStart(6)} ms, ` +
        `CPU ${r.cpuMs.toFixed(0).padStart(6)} ms, ` +
        `peak RSS ${r.peakRssMb.toFixed(0).padStart(5)} MB`);
    }
  }
  const summary = {};
  for (const client of clients) {
    const mine = runs.filter((r) => r.client === client);
    summary[client] = {
      medianMaxDelayMs: median(mine.map((r) => r.maxDelayMs)),
      medianWallMs: median(mine.map((r) => r.wallMs)),
      medianCpuMs: median(mine.map((r) => r.cpuMs)),
      medianPeakRssMb: median(mine.map((r) => r.peakRssMb)),
    };
  }
  if (summary.pg && summary.pgatomic) {
    summary.ratioMaxDelay = summary.pgatomic.medianMaxDelayMs / summary.pg.medianMaxDelayMs;
    summary.ratioWall = summary.pgatomic.medianWallMs / summary.pg.medianWallMs;
  }
  for (const client of clients) {
    console.log(`${client}: median longest hold ${summary[client].medianMaxDelayMs.toFixed(0)} ms, ` +
      `median read ${summary[client].medianWallMs.toFixed(0)} ms, ` +
      `median peak RSS ${summary[client].medianPeakRssMb.toFixed(0)} MB`);
  }
  // Memory over a result far larger than memory would hold whole: the
  // streaming clients once each, in turn.
  const big = [];
  if (streamRows > 0) {
    for (const client of clients.filter((c) => STREAMING.has(c))) {
      const r = runChild(client, streamRows);
      big.push(r);
      console.log(`${client.padEnd(24)} ${streamRows} rows: read ${r.wallMs.toFixed(0)} ms, ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB, longest hold ${r.maxDelayMs.toFixed(0)} ms`);
    }
  }
  // The machine is shared: its load goes with the figures (bench/report.py
  // prints it beside them).
  const machine = { nproc: os.cpus().length, node: process.version,
    loadavgStart: loadStart, loadavgEnd: os.loadavg()[0] };
  const result = { rows, repeat, clients, batch: BATCH, date: new Date().toISOString(), machine,
    summary, runs, streamRows, big };
  const dir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'loop-delay.json'), `${JSON.stringify(result, null, 1)}\n`);
  console.log(JSON.stringify(summary));
}

main();
