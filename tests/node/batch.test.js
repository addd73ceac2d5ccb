'use strict';
// Statements issued without awaiting each other (Promise.all) go out in one
// batch: one round trip.  Inside a transaction a failure skips the rest
// (PGA_EBROKEN); outside one each statement stands alone.
const { pgatomic, openDb, count, startProxy, waitFor, sleep } = require('./helpers');

const T = 'batch_rows';
let db;
let proxy;
let pdb;  // through the proxy, one session
beforeAll(async () => {
  db = openDb({ max: 1 });
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (n int PRIMARY KEY)`);
  proxy = await startProxy();
  // prepareThreshold null: the proxy counts Parse messages as queries, and
  // preparing (one more Parse with pg_backend_pid() riding, then none)
  // would shift those counts away from one per statement.
  pdb = pgatomic.connect(proxy.url, { max: 1, prepareThreshold: null });
  await pdb.query('SELECT 1');
});
afterAll(async () => {
  await pdb.close();
  await proxy.stop();
  await db.query(`DROP TABLE ${T}`);
  await db.close();
});
beforeEach(() => db.query(`TRUNCATE ${T}`));

const ins = (n, t) => db.query(`INSERT INTO ${T} VALUES ($1) RETURNING n`, [n], { transaction: t });

test('promise_all_in_a_transaction_costs_one_round_trip', async () => {
  let t;
  const rows = await db.transaction(async (tx) => {
    t = tx;
    const before = tx.roundTrips;
    const res = await Promise.all([tx.query(`INSERT INTO ${T} VALUES (1)`),
      tx.query(`INSERT INTO ${T} VALUES (2)`), tx.query(`SELECT count(*)::int AS n FROM ${T}`)]);
    expect(tx.roundTrips - before).toBe(1);   // BEGIN + 3 statements
    return res;
  });
  expect(rows[0].command).toBe('INSERT');
  expect(rows[2].rows[0].n).toBe(2);           // in order: it saw both inserts
  expect(t.roundTrips).toBe(2);                // + COMMIT
  expect(await count(db, T)).toBe(2);
});

test('promise_all_failure_in_the_middle_skips_the_rest', async () => {
  let t;
  const outcome = await db.transaction(async (tx) => {
    t = tx;
    const r = await Promise.allSettled([ins(1, tx), ins(1, tx), ins(3, tx)]);
    expect(tx.roundTrips).toBe(1);
    return r;
  }).catch((e) => e);
  // The callback returned normally after a failure: commit is refused.
  expect(outcome).toBeInstanceOf(pgatomic.TransactionError);
  expect(t.finished).toBe('rollback');
  expect(await count(db, T)).toBe(0);
});

test('promise_all_outcomes_per_statement', async () => {
  let settled;
  await db.transaction(async (tx) => {
    settled = await Promise.allSettled([ins(1, tx), ins(1, tx), ins(3, tx)]);
    throw new Error('undo');
  }).catch(() => {});
  const [a, b, c] = settled;
  expect(a.status).toBe('fulfilled');
  expect(a.value.rows).toEqual([{ n: 1 }]);
  expect(b.status).toBe('rejected');
  expect(b.reason).toBeInstanceOf(pgatomic.UniqueConstraintError);
  expect(b.reason.code).toBe('23505');
  expect(c.status).toBe('rejected');
  expect(c.reason).toBeInstanceOf(pgatomic.DatabaseError);
  expect(c.reason).not.toBeInstanceOf(pgatomic.UniqueConstraintError);
  expect(c.reason.code).toBe('25P02');
  expect(c.reason.cause).toBe(b.reason);
  expect(await count(db, T)).toBe(0);
});

test('a_refused_statement_rejects_alone', async () => {
  let settled;
  await db.transaction(async (tx) => {
    settled = await Promise.allSettled([ins(1, tx),
      tx.query(`INSERT INTO ${T} VALUES ($1)`, [2, 3]),            // wrong count: never sent
      tx.query(`INSERT INTO ${T} VALUES ($1)`, [Symbol('x')]),     // cannot be encoded
      ins(4, tx)]);
    expect(tx.roundTrips).toBe(1);
  });
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  expect(settled[1].reason.code).toBe('08P01');
  expect(settled[2].reason).toBeInstanceOf(TypeError);
  expect(await count(db, T)).toBe(2);
});

test('a_script_in_a_batch_runs_alone_in_order', async () => {
  const r = await db.transaction(async (tx) => Promise.all([
    tx.query(`INSERT INTO ${T} VALUES (1)`),
    tx.query(`INSERT INTO ${T} VALUES (2); INSERT INTO ${T} VALUES (3)`),
    tx.query(`SELECT array_agg(n ORDER BY n) AS a FROM ${T}`)]));
  expect(r[2].rows[0].a).toEqual([1, 2, 3]);
});

test('outside_a_transaction_batched_statements_stay_independent', async () => {
  // max: 1, so the three db.query() calls share the one session.
  const settled = await Promise.allSettled([ins(1, null), ins(1, null), ins(3, null)]);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(settled[1].reason).toBeInstanceOf(pgatomic.UniqueConstraintError);
  expect(await count(db, T)).toBe(2);
});

test('proxy_counts_one_round_trip_for_promise_all', async () => {
  await proxy.control('reset');
  await pdb.transaction(async (tx) => {
    await Promise.all([1, 2, 3].map((n) => tx.query(`INSERT INTO ${T} VALUES ($1)`, [n])));
  });
  let s = await proxy.stats();
  expect(s.round_trips).toBe(2);               // BEGIN+3 INSERTs, then COMMIT
  expect(s.queries).toBe(5);
  // Autocommit: each statement has its own sync.  libpq 15's
  // PQpipelineSync() flushes, so the server may answer the first before
  // the last is on the wire and the proxy may count more than one round
  // trip; the statements still travel without waiting for each other
  // (the core's count: one batch).
  await proxy.control('reset');
  const session = [...pdb._pool.all][0];
  const before = session.roundTrips();
  const settled = await Promise.allSettled([4, 4, 6].map((n) =>
    pdb.query(`INSERT INTO ${T} VALUES ($1)`, [n])));
  expect(session.roundTrips() - before).toBe(1);
  s = await proxy.stats();
  expect(s.queries).toBe(3);
  expect(settled.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(await count(db, T)).toBe(5);
});

test('a_transaction_with_a_signal_still_batches', async () => {
  const ac = new AbortController();
  await db.transaction({ signal: ac.signal }, async (tx) => {
    const before = tx.roundTrips;
    await Promise.all([ins(1, tx), ins(2, tx)]);
    expect(tx.roundTrips - before).toBe(1);
  });
  expect(await count(db, T)).toBe(2);
});

test('abort_cancels_a_running_batch', async () => {
  const ac = new AbortController();
  const start = Date.now();
  let settled;
  const watcher = openDb({ max: 1 });
  // Abort once the statement sleeps on the server: it is 'active' from its
  // Parse on, but a cancel that arrives before the Execute is read is
  // dropped (the sleep would run on, and the abort's grace close the session).
  const running = waitFor(async () => (await watcher.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%pg_sleep(30) /*b1*/%'"))
    .rows[0].n > 0, 10000).then(() => ac.abort());
  let statementsSettled;
  const allSettled = new Promise((resolve) => { statementsSettled = resolve; });
  const err = await db.transaction({ signal: ac.signal }, async (tx) => {
    settled = await Promise.allSettled([ins(1, tx), tx.query('SELECT pg_sleep(30) /*b1*/'), ins(2, tx)]);
    statementsSettled();
    throw settled[1].reason;
  }).catch((e) => e);
  await running;
  await watcher.close();
  // The transaction settles at once on abort (issue 13); each statement of
  // the batch still settles with its own exact outcome once the server
  // has answered the cancel.
  expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
  await allSettled;
  expect(Date.now() - start).toBeLessThan(20000);     // not the 30 s sleep
  expect(settled.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  expect(settled[1].reason).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(settled[2].reason.code).toBe('25P02');
  expect(settled[2].reason.cause).toBe(settled[1].reason);
  for (let i = 0; i < 200 && db.poolStats().idle < db.poolStats().total; i++) await sleep(10);
  expect(await count(db, T)).toBe(0);
});

describe('hooks scoped by the core', () => {
  test('root_hook_survives_a_savepoint_rollback_while_that_savepoint_is_open', async () => {
    const calls = [];
    await db.transaction(async (root) => {
      await db.transaction(async () => {
        root.afterCommit(() => calls.push('root'));        // belongs to the root block
        throw new Error('undo savepoint');
      }).catch(() => {});
    });
    expect(calls).toEqual(['root']);
  });

  test('late_hook_on_a_released_savepoint_follows_the_parent', async () => {
    const calls = [];
    await db.transaction(async () => {
      let sp;
      await db.transaction(async (s) => { sp = s; await ins(1); });
      expect(sp.finished).toBe('commit');
      sp.afterCommit(() => calls.push('late commit'));
      sp.afterRollback(() => calls.push('late rollback'));
      throw new Error('undo root');
    }).catch(() => {});
    expect(calls).toEqual(['late rollback']);
  });

  test('hooks_on_a_finished_transaction_are_ignored', async () => {
    const t = await db.transaction();
    await t.commit();
    const fn = jest.fn();
    expect(t.afterCommit(fn)).toBe(t);
    t.afterRollback(fn);
    t.afterTransaction(fn);
    const u = await db.transaction();
    await u.rollback();
    u.afterRollback(fn);
    await db.transaction(async () => {});
    expect(fn).not.toHaveBeenCalled();
  });

  test('savepoint_rollback_runs_its_afterRollback_at_once', async () => {
    const calls = [];
    await db.transaction(async (root) => {
      await db.transaction(async (sp) => {
        sp.afterRollback(() => calls.push('sp rollback'));
        sp.afterTransaction(() => calls.push('sp after'));
        sp.afterCommit(() => calls.push('never'));
        throw new Error('x');
      }).catch(() => {});
      expect(calls).toEqual(['sp rollback', 'sp after']);
      root.afterCommit(() => calls.push('root'));
    });
    expect(calls).toEqual(['sp rollback', 'sp after', 'root']);
  });
});
