'use strict';
// The driver shared by the Node benchmark clients (the twin of
// bench/c/common.h and bench/python/common.py; same options, same output).
//
// A client calls main(name, make); make(opts) connects and resolves to
// { shapes: { insert: async (i) => ..., ... }, close: async () => ... }.
// Options: --shape, --host/--port/--user/--dbname, --seconds N or --txns K,
// --warmup W, --control PORT (the proxy: `reset` after the warm-up, `stats`
// at the end).  One JSON line out.  No asserts: an error ends the process.
const fs = require('fs');
const net = require('net');
const path = require('path');

// Peers live in bench/.peers/node, never in the package's dependencies.
const PEERS = path.join(__dirname, '..', '.peers', 'node', 'node_modules');
function peer(name) {
  return require(path.join(PEERS, name));
}

const SHAPES = ['insert', 'transfer', 'nested', 'empty', 'ten', 'select',
  // The ORM table's (bench/orm.py, node-orm.js): research/orm-integration.md section 2.
  'serializable', 'nestedfail', 'emptynested'];
const N_ACCOUNTS = 1000;
const SQL_INSERT = 'INSERT INTO bench_items (v) VALUES ($1)';
const SQL_DEBIT = 'UPDATE bench_accounts SET b = b - $1 WHERE id = $2';
const SQL_CREDIT = 'UPDATE bench_accounts SET b = b + $1 WHERE id = $2';
const SQL_SELECT = 'SELECT id, b FROM bench_accounts WHERE id = $1';

function accounts(i) {
  return [1 + (i % N_ACCOUNTS), 1 + ((i + 1) % N_ACCOUNTS)];
}

function parse(argv) {
  const env = process.env;
  const o = {
    shape: null, host: env.PGHOST || '/tmp', port: env.PGPORT || '5432',
    user: env.PGUSER || 'postgres', dbname: env.PGDATABASE || 'postgres',
    seconds: 2, txns: 0, warmup: 50, control: 0,
  };
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k].replace(/^--/, '');
    const v = argv[k + 1];
    if (!(key in o) || v === undefined) throw new Error(`bad option ${argv[k]}`);
    o[key] = ['seconds', 'txns', 'warmup', 'control'].includes(key) ? Number(v) : v;
  }
  if (!SHAPES.includes(o.shape)) throw new Error(`--shape ${SHAPES.join('|')} is required`);
  o.port = Number(o.port);
  o.conninfo = `host=${o.host} port=${o.port} user=${o.user} dbname=${o.dbname}`;
  return o;
}

function control(port, cmd) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`${cmd}\n`));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) { s.destroy(); resolve(buf.trim()); }
    });
    s.on('error', reject);
  });
}

// Peak RSS of this process image (VmHWM).  Not resourceUsage().maxRSS,
// which on Linux carries over the parent's peak across fork and exec.
function peakRssKb() {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch (e) { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}

function statField(reply, key) {
  for (const part of reply.split(/\s+/)) {
    const [k, v] = part.split('=');
    if (k === key) return Number(v);
  }
  return -1;
}

async function run(name, make) {
  const o = parse(process.argv.slice(2));
  const client = await make(o);
  const txn = client.shapes[o.shape];
  let i = 0;
  for (let k = 0; k < o.warmup; k++) await txn(i++);
  if (o.control) await control(o.control, 'reset');
  let done = 0;
  const clock = () => Number(process.hrtime.bigint()) / 1e9;
  // The client's own CPU time (user + system) per transaction: what the
  // driver and the ORM cost, much less sensitive to the machine's load
  // than the wall clock (a loaded machine stretches waits, not work).
  const cpu0 = process.cpuUsage();
  const t0 = clock();
  let t1 = t0;
  if (o.txns > 0) {
    for (; done < o.txns; done++) await txn(i++);
    t1 = clock();
  } else {
    // Read the clock after batches that double while a batch takes under
    // 1 ms (as the C and Python drivers do).
    const until = t0 + o.seconds;
    let prev = t0;
    let batch = 1;
    for (;;) {
      for (let k = 0; k < batch; k++) await txn(i++);
      done += batch;
      t1 = clock();
      if (t1 >= until) break;
      if (t1 - prev < 0.001 && batch < 4096) batch *= 2;
      prev = t1;
    }
  }
  const out = {
    client: name, shape: o.shape,
    tps: t1 > t0 ? Math.round((done / (t1 - t0)) * 10) / 10 : 0,
    txns: done, seconds: Math.round((t1 - t0) * 1e4) / 1e4,
    maxrss_kb: peakRssKb(),
  };
  const cpu = process.cpuUsage(cpu0);
  if (done) out.cpu_us_per_txn = Math.round(((cpu.user + cpu.system) / done) * 10) / 10;
  if (o.control) {
    const rt = statField(await control(o.control, 'stats'), 'round_trips');
    out.round_trips = rt;
    out.rt_per_txn = done ? Math.round((rt / done) * 1000) / 1000 : 0;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await client.close();
}

function main(name, make) {
  run(name, make).then(
    () => process.exit(0),
    (err) => { console.error(`${name}:`, err); process.exit(1); },
  );
}

module.exports = {
  main, peer, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
};
