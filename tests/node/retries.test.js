'use strict';
// db.transaction({ retries }) re-runs the callback on a retryable failure of
// the outermost transaction (the core's pga_retryable: 40001, 40P01; never an
// unknown COMMIT outcome); { signal } cancels a managed transaction;
// statement_timeout passes through.
const { pgatomic, openDb, count, sleep, waitFor } = require('./helpers');

const T = 'retry_rows';
let db;
beforeAll(async () => {
  db = openDb({ max: 3 });
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (n int PRIMARY KEY)`);
});
afterAll(async () => {
  await db.query(`DROP TABLE ${T}`);
  await db.close();
});
beforeEach(() => db.query(`TRUNCATE ${T}`));

const raise = (code) => db.query(`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '${code}'; END $$`);

describe('retries', () => {
  test('serialization_failure_reruns_the_callback_and_drops_the_failed_attempts_hooks', async () => {
    const calls = [];
    const before = db.stats();
    let attempt = 0;
    const result = await db.transaction({ retries: 3, retryBaseMs: 1 }, async (t) => {
      attempt++;
      await db.query(`INSERT INTO ${T} VALUES (1)`);
      t.afterCommit(() => calls.push(`commit ${attempt}`));
      t.afterRollback(() => calls.push(`rollback ${attempt}`));
      t.afterTransaction(() => calls.push(`after ${attempt}`));
      if (attempt === 1) await raise('40001');
      return attempt;
    });
    expect(result).toBe(2);
    expect(calls).toEqual(['commit 2', 'after 2']);
    expect(db.stats().retries - before.retries).toBe(1);
    expect(db.stats().attempts - before.attempts).toBe(2);
    expect(await count(db, T)).toBe(1);
  });

  test('deadlock_is_retried_too', async () => {
    let attempt = 0;
    await db.transaction({ retries: 1, retryBaseMs: 0 }, async () => {
      attempt++;
      if (attempt === 1) await raise('40P01');
    });
    expect(attempt).toBe(2);
  });

  test('a_caught_serialization_failure_still_retries', async () => {
    // The callback swallows the error: commit is refused (EBROKEN with the
    // 40001 as cause), which is retryable.
    let attempt = 0;
    await db.transaction({ retries: 2, retryBaseMs: 0 }, async () => {
      attempt++;
      if (attempt === 1) await raise('40001').catch(() => {});
      await db.query(`INSERT INTO ${T} VALUES ($1)`, [attempt]).catch(() => {});
    });
    expect(attempt).toBe(2);
    expect((await db.query(`SELECT n FROM ${T}`)).rows).toEqual([{ n: 2 }]);
  });

  test('other_errors_are_never_retried', async () => {
    let attempt = 0;
    const err = await db.transaction({ retries: 5 }, async () => {
      attempt++;
      await db.query(`INSERT INTO ${T} VALUES (1), (1)`);
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.UniqueConstraintError);
    expect(attempt).toBe(1);
    expect(err.attempts).toBe(1);
    const plain = await db.transaction({ retries: 5 }, async () => {
      attempt++;
      throw new Error('mine');
    }).catch((e) => e);
    expect(plain.message).toBe('mine');
    expect(attempt).toBe(2);
  });

  test('gives_up_after_retries_with_the_last_error', async () => {
    let attempt = 0;
    const err = await db.transaction({ retries: 2, retryBaseMs: 0 }, async () => {
      attempt++;
      await raise('40001');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.SerializationError);
    expect(err.attempts).toBe(3);
    expect(attempt).toBe(3);
  });

  test('retries_only_on_the_outermost_transaction', async () => {
    await db.transaction(async () => {
      await expect(db.transaction({ retries: 1 }, async () => {})).rejects.toThrow(
        pgatomic.TransactionError);
    });
    await expect(db.transaction({ retries: -1 }, async () => {})).rejects.toThrow(TypeError);
  });

  test('core_retry_rules_are_exposed', () => {
    const native = require('../../node/lib/native');
    expect(native.retryable(native.codes.ESERVER, '40001')).toBe(true);
    expect(native.retryable(native.codes.EBROKEN, '40P01')).toBe(true);
    expect(native.retryable(native.codes.ECOMMITUNKNOWN, '40001')).toBe(false);
    expect(native.retryable(native.codes.ESERVER, '23505')).toBe(false);
    for (let attempt = 1; attempt < 8; attempt++) {
      const d = native.retryDelayMs(attempt, 10, 100, 0xffffffff);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(100, 10 * 2 ** (attempt - 1)));
    }
  });
});

// Resolves once a statement like `like` sleeps in pg_sleep on the server.
// It is 'active' from its Parse on, but a cancel that arrives before the
// Execute is read is dropped by the server.
async function running(like) {
  await waitFor(async () => (await db.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE $1",
    [like], { transaction: null })).rows[0].n > 0, 10000, `${like} running`);
}

describe('cancellation', () => {
  test('abort_cancels_the_running_statement_and_rolls_back', async () => {
    const ac = new AbortController();
    const start = Date.now();
    const p = db.transaction({ signal: ac.signal }, async () => {
      await db.query(`INSERT INTO ${T} VALUES (1)`);
      await db.query('SELECT pg_sleep(30) /*abort1*/');
    });
    await running('%pg_sleep(30) /*abort1*/%');
    ac.abort(new Error('user gave up'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
    expect(err.code).toBe('57014');
    expect(Date.now() - start).toBeLessThan(20000);     // not the 30 s sleep
    expect(await count(db, T)).toBe(0);
    expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  test('abort_between_statements_refuses_the_commit', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    let t;
    const err = await db.transaction({ signal: ac.signal }, async (tx) => {
      t = tx;
      await db.query(`INSERT INTO ${T} VALUES (1)`);
      ac.abort(reason);
      await sleep(10);
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
    expect(err.cause).toBe(reason);
    // The abort settles the transaction() at once; its rollback finishes
    // in the background (issue 13: "settles the promise at once").
    for (let i = 0; i < 200 && t.finished === undefined; i++) await sleep(10);
    expect(t.finished).toBe('rollback');
    expect(await count(db, T)).toBe(0);
  });

  test('statements_after_abort_are_refused_with_the_reason', async () => {
    const ac = new AbortController();
    const err = await db.transaction({ signal: ac.signal }, async () => {
      ac.abort('why');
      await db.query(`INSERT INTO ${T} VALUES (1)`);
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
    expect(err.cause).toBe('why');
    expect(await count(db, T)).toBe(0);
  });

  test('already_aborted_signal_never_begins', async () => {
    const ac = new AbortController();
    ac.abort();
    const cb = jest.fn();
    const err = await db.transaction({ signal: ac.signal }, cb).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
    expect(cb).not.toHaveBeenCalled();
  });

  test('statement_timeout_passes_through', async () => {
    let t;
    const err = await db.transaction(async (tx) => {
      t = tx;
      await db.query(`INSERT INTO ${T} VALUES (1)`);
      await db.query("SET LOCAL statement_timeout = '50ms'");
      await db.query('SELECT pg_sleep(2)');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.QueryCanceledError);
    expect(err.code).toBe('57014');
    expect(t.finished).toBe('rollback');
    expect(await count(db, T)).toBe(0);
  });

  test('a_cancelled_statement_breaks_its_savepoint_only', async () => {
    const ac = new AbortController();
    await db.transaction(async () => {
      await db.query(`INSERT INTO ${T} VALUES (1)`);
      running('%pg_sleep(30) /*abort2*/%').then(() => ac.abort());
      const e = await db.transaction(async () => {
        await db.query('SELECT pg_sleep(30) /*abort2*/', [], { signal: ac.signal });
      }).catch((x) => x);
      expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
      await db.query(`INSERT INTO ${T} VALUES (2)`);
    });
    expect(await count(db, T)).toBe(2);
  });
});
