'use strict';
// A COMMIT or ROLLBACK sent as raw SQL inside a transaction is caught by
// the core; the transaction is then reported as rolled back, never as
// committed.
const { pgatomic, openDb, count } = require('./helpers');

let db;
beforeAll(async () => {
  db = openDb({ max: 1 });
  await db.query('DROP TABLE IF EXISTS raw_rows');
  await db.query('CREATE TABLE raw_rows (n int)');
});
afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS raw_rows');
  await db.close();
});

test('raw_commit_inside_a_transaction_rejects_and_the_transaction_fails', async () => {
  let t;
  let raw;
  const e = await db.transaction(async (tx) => {
    t = tx;
    await db.query('INSERT INTO raw_rows VALUES (1)');
    raw = await db.query('COMMIT').catch((x) => x);
  }).catch((x) => x);
  expect(raw).toBeInstanceOf(pgatomic.TransactionError);
  expect(e).toBeInstanceOf(pgatomic.TransactionError);
  expect(t.finished).toBe('rollback');
  expect(db.poolStats().idle).toBe(db.poolStats().total);
  // The pool is healthy afterwards.
  expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  expect(await count(db, 'raw_rows')).toBeLessThanOrEqual(1);
});
