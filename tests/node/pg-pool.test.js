'use strict';
// pgatomic/pg's Pool is pg-pool bound to pgatomic/pg's Client, with
// pg-pool's options and behaviour (its `Client` option included).
const net = require('net');
const pg = require('../../node/pg');

test('pg_pool_query_connect_release_and_end', async () => {
  const pool = new pg.Pool({ max: 2 });
  try {
    expect(pool.options.max).toBe(2);
    expect((await pool.query('SELECT $1::int AS v', [3])).rows).toEqual([{ v: 3 }]);
    const a = await pool.connect();
    const b = await pool.connect();
    expect(a).toBeInstanceOf(pg.Client);
    // The BackendKeyData's pid as pg reads it (a signed int32): through
    // PgBouncer a random one, negative half the time, never null.
    expect(typeof a.processID).toBe('number');
    expect(typeof b.processID).toBe('number');
    expect(a.processID).not.toBe(b.processID);
    expect(pool.totalCount).toBe(2);
    // A third caller waits for a release.
    let third = null;
    const waiting = pool.connect().then((c) => { third = c; });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(third).toBe(null);
    expect(pool.waitingCount).toBe(1);
    a.release();
    await waiting;
    expect(third.processID).toBe(a.processID);
    third.release();
    // release(err) destroys the client instead of keeping it.
    b.release(new Error('broken'));
    expect(pool.totalCount).toBe(1);
    await pool.end();
    expect(pool.ended).toBe(true);
  } finally {
    // A failed expectation must not leave live clients keeping jest's
    // process alive after the run.
    if (!pool.ended) await pool.end().catch(() => {});
  }
});

test('pg_pool_honours_the_Client_option', async () => {
  const made = [];
  class CountingClient extends pg.Client {
    constructor(options) {
      super(options);
      made.push(this);
    }
  }
  const pool = new pg.Pool({ Client: CountingClient, max: 1 });
  await pool.query('SELECT 1');
  expect(made.length).toBe(1);
  expect(made[0]).toBeInstanceOf(pg.Client);
  await pool.end();
});

test('pg_pool_transaction_on_one_client_commits_and_rolls_back', async () => {
  const pool = new pg.Pool({ max: 3 });
  await pool.query('DROP TABLE IF EXISTS pgp_t; CREATE TABLE pgp_t (n int)');
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('INSERT INTO pgp_t VALUES (1)');
    await c.query('SAVEPOINT s1');
    await c.query('INSERT INTO pgp_t VALUES (2)');
    await c.query('ROLLBACK TO SAVEPOINT s1');
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query('INSERT INTO pgp_t VALUES (3)');
    await c.query('ROLLBACK');
  } finally {
    c.release();
  }
  expect((await pool.query('SELECT n FROM pgp_t ORDER BY n')).rows).toEqual([{ n: 1 }]);
  await pool.query('DROP TABLE pgp_t');
  await pool.end();
});

test('pg_pool_connection_timeout_and_idle_error_events', async () => {
  // A listener that accepts and never answers: the connect hangs until
  // pg-pool's connectionTimeoutMillis ends it.
  const silent = net.createServer(() => {});
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const pool = new pg.Pool({ host: '127.0.0.1', port: silent.address().port, connectionTimeoutMillis: 200, max: 1 });
  const started = Date.now();
  const e = await pool.connect().catch((x) => x);
  expect(e.message).toBe('Connection terminated due to connection timeout');
  expect(Date.now() - started).toBeLessThan(2000);
  await pool.end();
  // The Client's own connectionTimeoutMillis says what pg says.
  const slow = new pg.Client({ host: '127.0.0.1', port: silent.address().port, connectionTimeoutMillis: 200 });
  await expect(slow.connect()).rejects.toThrow('timeout expired');
  silent.close();
  // A pooled idle client whose backend dies is noticed while idle: the
  // pool reports it and drops it, and the next caller gets a fresh one.
  const p2 = new pg.Pool({ max: 1 });
  const c = await p2.connect();
  const pid = c.processID;
  c.release();
  const reported = new Promise((resolve) => p2.on('error', (err, client) => resolve([err, client])));
  const killer = new pg.Client();
  await killer.connect();
  await killer.query('SELECT pg_terminate_backend($1)', [pid]);
  await killer.end();
  const [err, dead] = await reported;
  expect(err.message).toBe('Connection terminated unexpectedly');
  expect(dead.processID).toBe(pid);
  expect(p2.totalCount).toBe(0);
  const fresh = await p2.query('SELECT pg_backend_pid() AS pid');
  expect(fresh.rows[0].pid).not.toBe(pid);
  await p2.end();
});
