'use strict';
// mem-pgatomic -- pgatomic-Node's memory: RSS per idle pooled connection
// (one Database with max N, N concurrent statements open N connections),
// per open transaction (N unmanaged transactions, one statement each, so
// BEGIN has been sent), and RSS growth over many blocks on one connection
// (db.transaction with a SELECT), measured after a warm-up of a tenth of
// them, halfway and at the end.  Run with --expose-gc.  One JSON line; nothing asserted.
const path = require('path');

const pgatomic = require(path.join(__dirname, '..', '..'));

function rssKb() {
  if (global.gc) { global.gc(); global.gc(); }
  return Math.round(process.memoryUsage().rss / 1024);
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const k = args.indexOf(`--${name}`);
    return k >= 0 ? Number(args[k + 1]) : dflt;
  };
  const n = opt('connections', 100);
  const blocks = opt('blocks', 100000);
  const conninfo = `host=${process.env.PGHOST || '/tmp'} port=${process.env.PGPORT || 5432}`;

  const base = rssKb();
  const db = pgatomic.connect(conninfo, { max: n });
  await Promise.all(Array.from({ length: n }, () => db.query('SELECT pg_sleep(0.2)')));
  const idle = rssKb();
  const txns = await Promise.all(Array.from({ length: n }, async () => {
    const t = await db.transaction();
    await t.query('SELECT 1');
    return t;
  }));
  const inTxn = rssKb();
  await Promise.all(txns.map((t) => t.commit()));
  const stats = typeof db.poolStats === 'function' ? db.poolStats() : undefined;
  await db.close();
  const out = {
    client: 'node-pgatomic', connections: n, pool: stats,
    rss_per_idle_connection_kb: Math.round(((idle - base) / n) * 10) / 10,
    rss_per_open_transaction_kb: Math.round(((inTxn - idle) / n) * 10) / 10,
  };

  if (blocks > 0) {
    const one = pgatomic.connect(conninfo, { max: 1 });
    const sql = 'SELECT id, b FROM bench_accounts WHERE id = $1';
    const warm = Math.max(1, Math.floor(blocks / 10));
    for (let i = 0; i < warm; i++) {
      await one.transaction(async (t) => { await t.query(sql, [1 + (i % 1000)]); });
    }
    const before = rssKb();
    const half = Math.floor(blocks / 2);
    let mid = before;
    for (let i = 0; i < blocks; i++) {
      if (i === half) mid = rssKb();
      await one.transaction(async (t) => { await t.query(sql, [1 + (i % 1000)]); });
    }
    const after = rssKb();
    await one.close();
    Object.assign(out, {
      blocks,
      rss_before_blocks_kb: before,
      rss_mid_blocks_kb: mid,
      rss_after_blocks_kb: after,
      rss_growth_kb: after - before,
    });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(() => process.exit(0), (err) => { console.error('mem-pgatomic:', err); process.exit(1); });
