'use strict';
// Cancelling a statement: the core writes the request without waiting, the loop
// keeps ticking, the statement fails with QueryCanceledError.
const { pgatomic, openDb } = require('./helpers');

let db;
beforeAll(() => { db = openDb({ max: 1 }); });
afterAll(() => db.close());

test('abort_signal_cancels_a_running_statement', async () => {
  await db.query('SELECT 1');
  const ac = new AbortController();
  const start = Date.now();
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 20);
  setTimeout(() => ac.abort(), 100);
  const e = await db.query('SELECT pg_sleep(5)', [], { signal: ac.signal }).catch((x) => x);
  clearInterval(timer);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(e.code).toBe('57014');
  expect(Date.now() - start).toBeLessThan(3000);
  expect(ticks).toBeGreaterThanOrEqual(3);
  expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
});

test('already_aborted_signal_rejects_without_sending', async () => {
  const ac = new AbortController();
  ac.abort();
  const e = await db.query('SELECT 1', [], { signal: ac.signal }).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
});

test('cancel_inside_a_transaction_rolls_it_back', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const e = await db.transaction(async () => {
    await db.query('SELECT pg_sleep(5)', [], { signal: ac.signal });
  }).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(db.poolStats().idle).toBe(db.poolStats().total);
});
