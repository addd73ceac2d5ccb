'use strict';
// Nothing blocks the event loop: connect, query, cancel and close are all
// asynchronous.
const { pgatomic, openDb, sleep } = require('./helpers');

// A statement that waits on the server until the event loop lets it go:
// it asks for a transaction-level advisory lock that another session holds
// until `ticks` timer callbacks have run after the statement was seen
// waiting.  So it can finish only if the loop kept running while it waited,
// whatever the machine's load; with a blocked loop the lock is never
// released, and the holder's idle_in_transaction_session_timeout ends that
// deadlock as a failure (no ticks), never as a pass.
async function whileHeldOnTheServer(run, ticks) {
  const key = Math.floor(Math.random() * 2 ** 31);
  const holderDb = openDb({ max: 1 });
  const seen = [];
  let timer = null;
  let released = false;
  let gaveUp = false;
  try {
    const holder = await holderDb.transaction();
    await holder.query("SET LOCAL idle_in_transaction_session_timeout = '60s'");
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
    const waiting = async () => (await holder.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = $1::bigint AND NOT granted",
      [key])).rows[0].n === 1;
    const release = (async () => {
      // A query of the holder's own: the loop serves it while the other waits.
      while (!(await waiting())) {
        if (gaveUp) return;
        await sleep(10);
      }
      await new Promise((resolve) => {
        timer = setInterval(() => {
          seen.push(Date.now());
          if (seen.length >= ticks) resolve();
        }, 10);
      });
      clearInterval(timer);
      released = true;
      await holder.commit();
    })();
    release.catch(() => {});        // awaited below; a failed run() is reported instead
    const result = await run(`SELECT pg_advisory_xact_lock(${key}::bigint)`, () => released);
    await release;
    return { result, ticks: seen.length };
  } finally {
    gaveUp = true;
    if (timer) clearInterval(timer);
    await holderDb.close();
  }
}

test('timer_fires_while_a_query_waits_on_the_server', async () => {
  const db = openDb();
  try {
    await db.query('SELECT 1');  // connected: the test is about the query
    const { result, ticks } = await whileHeldOnTheServer(async (sql, released) => {
      const r = await db.query(`${sql}, 7 AS n`);
      expect(released()).toBe(true);   // it waited for the loop's release
      return r;
    }, 10);
    expect(result.rows[0].n).toBe(7);
    expect(ticks).toBe(10);
  } finally {
    await db.close();
  }
});

test('timer_fires_while_a_connection_opens_and_a_transaction_commits', async () => {
  const db = openDb();
  try {
    const { ticks } = await whileHeldOnTheServer((sql, released) => db.transaction(async () => {
      await db.query(sql);
      expect(released()).toBe(true);
    }), 5);
    expect(ticks).toBe(5);
  } finally {
    await db.close();
  }
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
