'use strict';
// Prepared statements: a text run often is prepared on the session once
// (pgatomic.h "Prepared statements"); results and round trips stay the same.
const { openDb } = require('./helpers');
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
