'use strict';
// The core's round-trip plan seen from Node: BEGIN rides with the first
// statement, so an empty transaction costs nothing and one INSERT costs 2.
const { openDb } = require('./helpers');

let db;
beforeAll(async () => {
  db = openDb({ max: 1 });
  await db.query('DROP TABLE IF EXISTS rt_rows');
  await db.query('CREATE TABLE rt_rows (n int)');
});
afterAll(async () => {
  await db.query('DROP TABLE rt_rows');
  await db.close();
});

test('empty_transaction_costs_zero_round_trips', async () => {
  let t;
  await db.transaction(async (tx) => { t = tx; });
  expect(t.roundTrips).toBe(0);
  const u = await db.transaction();
  await u.commit();
  expect(u.roundTrips).toBe(0);
});

test('one_insert_costs_two_round_trips', async () => {
  let t;
  await db.transaction(async (tx) => {
    t = tx;
    await db.query('INSERT INTO rt_rows VALUES (1)');
    expect(tx.roundTrips).toBe(1);
  });
  expect(t.roundTrips).toBe(2);
});

test('savepoint_rides_with_the_next_statement', async () => {
  let t;
  await db.transaction(async (tx) => {
    t = tx;
    await db.query('INSERT INTO rt_rows VALUES (1)');          // BEGIN + INSERT
    await db.transaction(async () => {
      await db.query('INSERT INTO rt_rows VALUES (2)');        // SAVEPOINT + INSERT
    });
  });                                                          // RELEASE + COMMIT
  expect(t.roundTrips).toBe(3);
});

test('rollback_of_an_empty_transaction_costs_zero', async () => {
  let t;
  await db.transaction(async (tx) => { t = tx; throw new Error('x'); }).catch(() => {});
  expect(t.roundTrips).toBe(0);
});
