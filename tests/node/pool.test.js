'use strict';
// The pool: max connections, concurrency, idle connections, broken ones
// destroyed and never handed out again.
const { pgatomic, openDb, count, sleep, waitFor } = require('./helpers');

const T = 'pool_rows';
let admin;

beforeAll(async () => {
  admin = openDb({ max: 2 });
  await admin.query(`DROP TABLE IF EXISTS ${T}`);
  await admin.query(`CREATE TABLE ${T} (worker int NOT NULL, n int NOT NULL)`);
});

afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${T}`);
  await admin.close();
});

test('fifty_concurrent_managed_transactions_on_a_pool_of_five', async () => {
  const db = pgatomic.connect(undefined, { max: 5 });
  try {
    const results = await Promise.all(Array.from({ length: 50 }, (_, w) =>
      db.transaction(async (t) => {
        await db.query(`INSERT INTO ${T} (worker, n) VALUES ($1, 1)`, [w]);
        await sleep(Math.floor(Math.random() * 5));
        await db.query(`INSERT INTO ${T} (worker, n) VALUES ($1, 2)`, [w], { transaction: t });
        const mine = await db.query(`SELECT count(*)::int AS c FROM ${T} WHERE worker = $1`, [w]);
        return mine.rows[0].c;
      })));
    expect(results).toEqual(Array(50).fill(2));
    expect(await count(admin, T)).toBe(100);
    for (let w = 0; w < 50; w++) {
      expect(await count(admin, T, 'worker = $1', [w])).toBe(2);
    }
    const stats = db.poolStats();
    expect(stats.total).toBeLessThanOrEqual(5);
    expect(stats.idle).toBe(stats.total);
    expect(stats.waiting).toBe(0);
    const act = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'");
    expect(act.rows[0].n).toBe(0);
  } finally {
    await db.close();
  }
});

test('pool_never_opens_more_than_max', async () => {
  const db = pgatomic.connect(undefined, { max: 3 });
  try {
    const before = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'");
    const pids = await Promise.all(Array.from({ length: 12 }, () =>
      db.query('SELECT pg_backend_pid() AS p, pg_sleep(0.02)').then((r) => r.rows[0].p)));
    expect(new Set(pids).size).toBeLessThanOrEqual(3);
    expect(db.poolStats().total).toBeLessThanOrEqual(3);
    const after = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'");
    expect(after.rows[0].n - before.rows[0].n).toBeLessThanOrEqual(3);
  } finally {
    await db.close();
  }
});

test('idle_connections_close_after_idleTimeoutMillis', async () => {
  const db = pgatomic.connect(undefined, { max: 2, idleTimeoutMillis: 50 });
  try {
    await db.query('SELECT 1');
    expect(db.poolStats().idle).toBe(1);
    await sleep(150);
    expect(db.poolStats().total).toBe(0);
    expect((await db.query('SELECT 2 AS two')).rows[0].two).toBe(2);
  } finally {
    await db.close();
  }
});

test('broken_connection_is_destroyed_not_returned', async () => {
  const db = pgatomic.connect(undefined, { max: 1 });
  try {
    const pid = (await db.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(async () => (await admin.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n === 0);
    // The pool sees the dead idle session (its socket has the server's
    // goodbye) and hands out a fresh one: no query fails.
    const pid2 = (await db.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    expect(pid2).not.toBe(pid);
    expect(db.poolStats().total).toBe(1);
  } finally {
    await db.close();
  }
});

test('connection_lost_inside_a_transaction_rejects_and_the_pool_recovers', async () => {
  const db = pgatomic.connect(undefined, { max: 1 });
  try {
    const err = await db.transaction(async () => {
      const pid = (await db.query('SELECT pg_backend_pid() AS p')).rows[0].p;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(50);
      await db.query('SELECT 1');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(pgatomic.TransactionError);
    expect((await db.query('SELECT 3 AS three')).rows[0].three).toBe(3);
    expect(db.poolStats().total).toBe(1);
  } finally {
    await db.close();
  }
});

test('bad_connection_string_rejects_with_ConnectionError', async () => {
  const db = pgatomic.connect('host=/nonexistent/socket/dir port=1 connect_timeout=2');
  try {
    const err = await db.query('SELECT 1').catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.ConnectionError);
    expect(db.poolStats().total).toBe(0);
  } finally {
    await db.close();
  }
  const bad = pgatomic.connect('this is = not valid ===');
  const e2 = await bad.query('SELECT 1').catch((e) => e);
  expect(e2).toBeInstanceOf(pgatomic.ConnectionError);
  await bad.close();
});
