'use strict';
// loop-delay -- how long one large SELECT holds the event loop, pgatomic
// beside node-postgres (`pg`), in one run:
//
//   scripts/pgtmp run -- node bench/node/loop-delay.js [--rows 1000000] [--repeat 5]
//
// Each repetition runs each client in a fresh child process, alternating
// (pg, pgatomic, pg, ...), so both see the same machine load.  A child
// connects, warms up with a small query, then runs the SELECT while
// perf_hooks.monitorEventLoopDelay samples the loop every millisecond; it
// reports the longest delay seen (the longest time the loop was held), the
// 99th percentile, and the query's wall time.  Prints a table and one JSON
// line; writes bench/results/loop-delay.json.  No asserts: a timing is a
// measurement, never a test (PROJECT.md).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const CLIENTS = ['pg', 'pgatomic'];
const sql = (rows) => `SELECT g AS id, 'name ' || g AS name, g * 1.5::float8 AS score,
  now() AS at FROM generate_series(1, ${rows}) g`;

// pg from the bench's peers (bench/run.sh installs them), else the
// package's devDependency.
function requirePg() {
  for (const dir of [path.join(__dirname, '..', '.peers', 'node', 'node_modules', 'pg'), 'pg']) {
    try {
      return require(dir);
    } catch (e) { /* next */ }
  }
  throw new Error('pg is not installed: run bash bench/run.sh or npm install');
}

async function child(client, rows) {
  const { monitorEventLoopDelay } = require('perf_hooks');
  let run;
  let close;
  if (client === 'pg') {
    const pg = requirePg();
    const c = new pg.Client();
    await c.connect();
    run = (q) => c.query(q);
    close = () => c.end();
  } else {
    const db = require('../../node').connect(undefined, { max: 1 });
    run = (q) => db.query(q);
    close = () => db.close();
  }
  await run(sql(1000));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = process.hrtime.bigint();
  const r = await run(sql(rows));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // One more turn, so that a hold just before the promise settled is seen.
  await new Promise((resolve) => setTimeout(resolve, 20));
  h.disable();
  if (r.rows.length !== rows) throw new Error(`${client}: ${r.rows.length} rows`);
  await close();
  return { client, rows, wallMs, maxDelayMs: h.max / 1e6, p99DelayMs: h.percentile(99) / 1e6 };
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
  const loadStart = os.loadavg()[0];
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    for (const client of CLIENTS) {
      const out = execFileSync(process.execPath, [__filename, '--child', client, String(rows)],
        { maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(out);
      runs.push(r);
      console.log(`${client.padEnd(9)} run ${i + 1}: longest hold ${r.maxDelayMs.toFixed(0).padStart(5)} ms, ` +
        `p99 ${r.p99DelayMs.toFixed(1).padStart(6)} ms, query ${r.wallMs.toFixed(0).padStart(5)} ms`);
    }
  }
  const summary = {};
  for (const client of CLIENTS) {
    const mine = runs.filter((r) => r.client === client);
    summary[client] = {
      medianMaxDelayMs: median(mine.map((r) => r.maxDelayMs)),
      medianWallMs: median(mine.map((r) => r.wallMs)),
    };
  }
  summary.ratioMaxDelay = summary.pgatomic.medianMaxDelayMs / summary.pg.medianMaxDelayMs;
  summary.ratioWall = summary.pgatomic.medianWallMs / summary.pg.medianWallMs;
  console.log(`median longest hold: pg ${summary.pg.medianMaxDelayMs.toFixed(0)} ms, ` +
    `pgatomic ${summary.pgatomic.medianMaxDelayMs.toFixed(0)} ms (ratio ${summary.ratioMaxDelay.toFixed(2)}); ` +
    `median query time ratio ${summary.ratioWall.toFixed(2)}`);
  // The machine is shared: its load goes with the figures (bench/report.py
  // prints it beside them).
  const machine = { nproc: os.cpus().length, node: process.version,
    loadavgStart: loadStart, loadavgEnd: os.loadavg()[0] };
  const result = { rows, repeat, date: new Date().toISOString(), machine, summary, runs };
  const dir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'loop-delay.json'), `${JSON.stringify(result, null, 1)}\n`);
  console.log(JSON.stringify(summary));
}

main();
