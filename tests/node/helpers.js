'use strict';
// Shared helpers for the jest suites: the server comes from PG* /
// DATABASE_URL, exported by the test command (scripts/pgtmp run).
const pgatomic = require('../../node');

function openDb(options) {
  return pgatomic.connect(undefined, { max: 5, ...options });
}

async function count(db, table, where = 'true', params = []) {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params,
    { transaction: null });
  return r.rows[0].n;
}

// Resolves after ms; used to let the loop run between steps.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// fast-check's run parameters: PGA_PROP_RUNS (default 100) and
// PGA_PROP_SEED reproduce or lengthen a run.
const propertyParams = {
  numRuns: Number(process.env.PGA_PROP_RUNS || 100),
  ...(process.env.PGA_PROP_SEED ? { seed: Number(process.env.PGA_PROP_SEED) } : {}),
};

// Whether the backend running a statement whose text contains marker waits
// to write to its client (the client stopped reading: back-pressure) and
// keeps waiting for a second; a client that reads the whole result makes
// it wait at most while a read is under way.  query(sql, params) is any
// client's (db.query, pg's pool.query).
async function serverWaitsToWrite(query, marker) {
  const waits = async () => (await query(
    "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid() AND wait_event = 'ClientWrite'",
    [marker])).rows.length > 0;
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = await waits();
    if (!seen) await sleep(50);
  }
  for (let i = 0; seen && i < 5; i++) {
    await sleep(200);
    seen = await waits();
  }
  return seen;
}

module.exports = { pgatomic, openDb, count, sleep, propertyParams, serverWaitsToWrite };

// The fault-injection proxy (tests/proxy/README.md) in front of the test
// server: { url, control(cmd) -> reply, stop() }.  Built by suite-node.sh
// (make out/pgproxy); PGA_PGPROXY overrides the path.
const path = require('path');
const fs = require('fs');
const net = require('net');
const { spawn } = require('child_process');

const PROXY = process.env.PGA_PGPROXY || path.join(__dirname, '..', '..', 'out', 'pgproxy');

// The server as pgproxy names it: a unix socket, or TCP (a PgBouncer in
// front of the server, scripts/suite-pgbouncer.sh).
function upstream() {
  const host = process.env.PGHOST || '/var/run/postgresql';
  const port = process.env.PGPORT || '5432';
  return host.startsWith('/') ? `unix:${host}/.s.PGSQL.${port}` : `tcp:${host}:${port}`;
}

async function startProxy(extraArgs = []) {
  if (!fs.existsSync(PROXY)) throw new Error(`${PROXY} is missing: run make out/pgproxy`);
  const child = spawn(PROXY, ['--listen', '127.0.0.1:0', '--control', '127.0.0.1:0',
    '--upstream', upstream(), ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('pgproxy did not start')), 5000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(buf.slice(0, nl)); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`pgproxy exited ${code}`)); });
  });
  const m = /listen=(\d+) control=(\d+)/.exec(first);
  const [listen, controlPort] = [Number(m[1]), Number(m[2])];
  const db = process.env.PGDATABASE || 'postgres';
  const user = process.env.PGUSER || 'postgres';
  const url = `host=127.0.0.1 port=${listen} dbname=${db} user=${user} sslmode=disable gssencmode=disable connect_timeout=5`;
  // One control connection, one command at a time.
  let chain = Promise.resolve();
  function control(cmd) {
    const run = () => new Promise((resolve, reject) => {
      const sock = net.connect(controlPort, '127.0.0.1');
      let reply = '';
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`pgproxy: no reply to ${cmd}`)); }, 10000);
      sock.on('data', (d) => {
        reply += d;
        if (reply.includes('\n')) {
          clearTimeout(timer);
          sock.end();
          resolve(reply.trim());
        }
      });
      sock.on('error', (e) => { clearTimeout(timer); reject(e); });
      sock.write(`${cmd}\n`);
    });
    const p = chain.then(run, run);
    chain = p.catch(() => {});
    return p;
  }
  async function stats() {
    const out = {};
    for (const kv of (await control('stats')).split(' ')) {
      const [k, v] = kv.split('=');
      out[k] = Number(v);
    }
    return out;
  }
  async function stop() {
    await control('quit').catch(() => {});
    if (child.exitCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 3000);
        child.on('exit', () => { clearTimeout(timer); resolve(); });
      });
    }
  }
  return { url, control, stats, stop };
}

// Polls cond() every 20 ms until it is truthy or timeoutMs pass.
async function waitFor(cond, timeoutMs = 5000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// How many sessions a pool talking through `proxy` holds open, as seen
// from outside it: the server's sessions named application_name `app`; or,
// through a transaction-mode pooler (scripts/suite-pgbouncer.sh), which
// shares server sessions among its clients and so has no such count, the
// client connections the proxy has open.
async function openSessions(direct, proxy, app) {
  if (process.env.PGA_VIA_PGBOUNCER) return (await proxy.stats()).conns;
  return (await direct.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n;
}

module.exports.startProxy = startProxy;
module.exports.waitFor = waitFor;
module.exports.openSessions = openSessions;
