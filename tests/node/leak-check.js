'use strict';
// Runs many transactions in one process and prints one JSON line with the
// memory after warm-up and at the end.  Run with --expose-gc (the leak test
// does): node --expose-gc tests/node/leak-check.js [transactions]
const pgatomic = require('../../node');

const N = Number(process.argv[2] || 20000);
const WARMUP = Math.min(10000, Math.floor(N / 2));
// For the meter's own test: keep this many bytes of native memory per
// transaction (a deliberate leak outside the V8 heap).
const HOLD = Number(process.env.PGA_LEAK_HOLD_BYTES || 0);
const held = [];

async function work(db, i) {
  if (HOLD > 0) held.push(Buffer.allocUnsafeSlow(HOLD).fill(1));
  switch (process.env.LEAK_CASE !== undefined ? Number(process.env.LEAK_CASE) : i % 4) {
    case 0:  // managed, one statement, a hook
      await db.transaction(async (t) => {
        await db.query('SELECT $1::int AS n', [i]);
        t.afterCommit(() => {});
      });
      break;
    case 1:  // a savepoint that rolls back, hooks dropped
      await db.transaction(async () => {
        await db.query('SELECT 1');
        await db.transaction(async (sp) => {
          sp.afterRollback(() => {});
          throw new Error('undo');
        }).catch(() => {});
      });
      break;
    case 2:  // Promise.all batch, unmanaged
      {
        const t = await db.transaction();
        await Promise.all([t.query('SELECT 1'), t.query('SELECT $1::text', ['x']), t.query('SELECT 2')]);
        await t.commit();
      }
      break;
    default: // a failed statement, rolled back
      await db.transaction(async () => {
        await db.query('SELECT 1/0');
      }).catch(() => {});
  }
}

function measure() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

(async () => {
  if (typeof global.gc !== 'function') throw new Error('run with --expose-gc');
  const db = pgatomic.connect(undefined, { max: 4 });
  const lanes = 4;
  const run = async (count) => {
    let next = 0;
    await Promise.all(Array.from({ length: lanes }, async () => {
      while (next < count) await work(db, next++);
    }));
  };
  await run(WARMUP);
  const start = measure();
  const t0 = Date.now();
  await run(Math.floor(N / 2));
  const mid = measure();
  await run(N - Math.floor(N / 2));
  const ms = Date.now() - t0;
  const end = measure();
  await db.close();
  // Growth over the whole measured run, and over its second half alone
  // (allocators and V8 settle early; a real leak keeps growing).
  console.log(JSON.stringify({ transactions: N, warmup: WARMUP, ms, start, mid, end,
    rssGrowth: end.rss - start.rss, heapGrowth: end.heapUsed - start.heapUsed,
    rssGrowthSecondHalf: end.rss - mid.rss, heapGrowthSecondHalf: end.heapUsed - mid.heapUsed }));
})().catch((e) => { console.error(e); process.exit(1); });
