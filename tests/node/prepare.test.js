'use strict';
// Prepared statements: a text run often is prepared on the session once
// (pgatomic.h "Prepared statements"); results and round trips stay the same.
const { pgatomic, openDb, startProxy } = require('./helpers');
const { kNative } = require('../../node/lib/session');

// Through a transaction-mode pooler the core must never prepare (the next
// transaction may run on a server session without the statement).
const BEHIND_POOLER = Boolean(process.env.PGA_VIA_PGBOUNCER);

function preparedCount(db) {
  const [session] = db._pool.all;
  return session[kNative].preparedCount();
}

test('statement_is_prepared_at_the_threshold', async () => {
  // psycopg's meaning: prepared at the 3rd run.
  const db = openDb({ max: 1, prepareThreshold: 2 });
  try {
    for (let i = 1; i <= 6; i++) {
      const res = await db.query('SELECT $1::int * 10 AS v', [i]);
      expect(res.rows).toEqual([{ v: i * 10 }]);
      // The first text due on a session runs unnamed once more, with
      // SELECT pg_backend_pid() riding behind it (the pooler check).
      expect(preparedCount(db)).toBe(BEHIND_POOLER || i <= 3 ? 0 : 1);
    }
  } finally {
    await db.close();
  }
});

test('prepared_block_statements_keep_their_round_trips', async () => {
  const db = openDb({ max: 1, prepareThreshold: 0 });
  try {
    await db.query('DROP TABLE IF EXISTS prep_rows');
    await db.query('CREATE TABLE prep_rows (n int)');
    for (let i = 0; i < 5; i++) {
      let t;
      await db.transaction(async (tx) => {
        t = tx;
        await tx.query('INSERT INTO prep_rows VALUES ($1)', [i]);
      });
      expect(t.roundTrips).toBe(2);
    }
    // CREATE and the INSERT (the DROP learnt the backend's pid): control
    // statements keep their text.
    expect(preparedCount(db)).toBe(BEHIND_POOLER ? 0 : 2);
    const res = await db.query('SELECT count(*)::int AS n, sum(n)::int AS s FROM prep_rows');
    expect(res.rows).toEqual([{ n: 5, s: 10 }]);
    await db.query('DROP TABLE prep_rows');
  } finally {
    await db.close();
  }
});

test('prepare_threshold_null_never_prepares', async () => {
  expect(() => openDb({ prepareThreshold: -1 })).toThrow(TypeError);
  const db = openDb({ max: 1, prepareThreshold: null });
  try {
    for (let i = 0; i < 8; i++) {
      expect((await db.query('SELECT 7 AS v')).rows).toEqual([{ v: 7 }]);
    }
    expect(preparedCount(db)).toBe(0);
  } finally {
    await db.close();
  }
});

// Ours on the session's server, not counting the statement that asks
// (which a low threshold prepares too).
async function othersOnServer(db) {
  const res = await db.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pga\\_%'"
    + " AND statement NOT LIKE '%pg\\_prepared\\_statements%'");
  return res.rows[0].n;
}

class Rollback extends Error {}

async function rolledBack(db, body) {
  await expect(db.transaction(async (t) => {
    await body(t);
    throw new Rollback('roll back');
  })).rejects.toThrow(Rollback);
}

test('rollback_deallocates_in_the_same_round_trip', async () => {
  // psycopg's rule: a rollback forgets every prepared text and the server
  // drops them (DEALLOCATE ALL), here behind the ROLLBACK in its flight.
  const prepared = BEHIND_POOLER ? 0 : 1;
  const proxy = await startProxy();
  let db;
  try {
    db = pgatomic.connect(proxy.url, { max: 1, prepareThreshold: 0 });
    await db.query('SELECT 3'); // learns the backend's pid
    await db.query('SELECT 3');
    expect(await othersOnServer(db)).toBe(prepared);
    await proxy.control('reset');
    await rolledBack(db, async (t) => {
      expect((await t.query('SELECT 3 AS v')).rows).toEqual([{ v: 3 }]);
    });
    // BEGIN + SELECT, then ROLLBACK + DEALLOCATE ALL.
    expect((await proxy.stats()).round_trips).toBe(2);
    expect(preparedCount(db)).toBe(0);
    expect(await othersOnServer(db)).toBe(0);
    await db.query('SELECT 3'); // counted again from the start
    expect(await othersOnServer(db)).toBe(prepared);
  } finally {
    if (db) await db.close();
    await proxy.stop();
  }
});

test('table_recreated_by_another_session_after_a_rollback', async () => {
  // SQLAlchemy's compliance suite: another pooled connection makes the
  // table again with another column type; the pool's reset (a rollback)
  // came in between, as it always does.  No 0A000.
  const db = openDb({ max: 1, prepareThreshold: 0 });
  const admin = openDb({ max: 1, prepareThreshold: null });
  try {
    await admin.query('DROP TABLE IF EXISTS prep_re_js');
    await admin.query('CREATE TABLE prep_re_js (x int)');
    await admin.query('INSERT INTO prep_re_js VALUES (1)');
    for (const column of ['x text', 'x int', 'x text']) {
      for (let i = 0; i < 3; i++) {
        await rolledBack(db, async (t) => {
          expect(String((await t.query('SELECT x FROM prep_re_js')).rows[0].x)).toBe('1');
        });
      }
      await admin.query('DROP TABLE prep_re_js');
      await admin.query(`CREATE TABLE prep_re_js (${column})`);
      await admin.query("INSERT INTO prep_re_js VALUES ('1')");
    }
    await db.transaction(async (t) => {
      expect((await t.query('SELECT x FROM prep_re_js')).rows).toEqual([{ x: '1' }]);
    });
  } finally {
    await admin.query('DROP TABLE IF EXISTS prep_re_js').catch(() => {});
    await db.close();
    await admin.close();
  }
});
