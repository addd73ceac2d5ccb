'use strict';
// Nothing blocks the event loop: connect, query, cancel and close are all
// asynchronous.
const { pgatomic, openDb } = require('./helpers');

test('timer_fires_on_schedule_while_pg_sleep_runs', async () => {
  const db = openDb();
  try {
    await db.query('SELECT 1');  // connected: the test is about the query
    const ticks = [];
    const start = Date.now();
    const timer = setInterval(() => ticks.push(Date.now() - start), 50);
    const r = await db.query('SELECT pg_sleep(0.5) AS s, 7 AS n');
    clearInterval(timer);
    expect(r.rows[0].n).toBe(7);
    expect(Date.now() - start).toBeGreaterThanOrEqual(450);
    // ~10 ticks at 50 ms; a blocked loop would give 0 or 1.
    expect(ticks.length).toBeGreaterThanOrEqual(7);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i] - ticks[i - 1]).toBeLessThan(200);
    }
  } finally {
    await db.close();
  }
});

test('timer_fires_while_a_connection_opens_and_a_transaction_commits', async () => {
  const db = openDb();
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 20);
  try {
    await db.transaction(async () => {
      await db.query('SELECT pg_sleep(0.2)');
    });
  } finally {
    clearInterval(timer);
    await db.close();
  }
  expect(ticks).toBeGreaterThanOrEqual(5);
});

test('async_local_storage_context_follows_native_callbacks', async () => {
  const { AsyncLocalStorage } = require('async_hooks');
  const als = new AsyncLocalStorage();
  const db = openDb();
  try {
    const seen = await Promise.all([1, 2, 3].map((n) => als.run(n, async () => {
      await db.query('SELECT pg_sleep(0.05)');
      return als.getStore();
    })));
    expect(seen).toEqual([1, 2, 3]);
  } finally {
    await db.close();
  }
});

test('close_waits_for_queries_in_flight', async () => {
  const db = openDb();
  const q = db.query('SELECT pg_sleep(0.2) AS s, 1 AS one');
  await new Promise((r) => setTimeout(r, 20));
  const closed = db.close();
  const r = await q;
  expect(r.rows[0].one).toBe(1);
  await closed;
  await expect(db.query('SELECT 1')).rejects.toThrow(new pgatomic.ConnectionError('Database is closed'));
});
