'use strict';
// Work asked of a transaction while one of its savepoints is open would be
// undone by that savepoint's rollback although it was reported done (the
// row vanished and COMMIT succeeded).  It is refused with TransactionError,
// when its turn on the session comes, whatever the nesting: managed or
// unmanaged savepoints, several levels deep, alone or in a same-tick
// batch.  (A second savepoint of the same transaction is allowed: it nests
// in the open one and is reported rolled back with it, API.md 2.2 and
// transaction-rules.test.js.)  nestMode 'reuse' and 'separate'
// open no savepoint on the parent, so nothing is refused there.  Errors
// keep their class and fields at any depth.
const { pgatomic, openDb } = require('./helpers');

let db;
beforeAll(async () => {
  db = openDb({ max: 4 });
  await db.query('DROP TABLE IF EXISTS sg_t');
  await db.query('CREATE TABLE sg_t (n int PRIMARY KEY, v int CHECK (v >= 0) NOT NULL DEFAULT 0, ref int REFERENCES sg_t (n))');
});
afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS sg_t');
  await db.close();
});
beforeEach(() => db.query('DELETE FROM sg_t'));

const rows = async () => (await db.query('SELECT n FROM sg_t ORDER BY n', [], { transaction: null })).rows.map((r) => r.n);

function expectRefused(e, sql) {
  expect(e).toBeInstanceOf(pgatomic.TransactionError);
  expect(e.message).toMatch(/cannot run a statement while its savepoint .* is open/);
  if (sql) expect(e.sql).toBe(sql);
}

// Every way of holding savepoints of `outer` open, depth levels below it;
// body(innermost) runs inside them.
const NESTINGS = [
  ['managed', async (outer, depth, body) => {
    const go = async (d, parent) => (d === 0 ? body(parent)
      : db.transaction({ transaction: parent }, (t) => go(d - 1, t)));
    return go(depth, outer);
  }],
  ['unmanaged', async (outer, depth, body) => {
    const opened = [];
    let parent = outer;
    for (let d = 0; d < depth; d++) {
      parent = await db.transaction({ transaction: parent });
      opened.push(parent);
    }
    try {
      return await body(parent);
    } finally {
      for (const t of opened.reverse()) if (!t.finished) await t.rollback();
    }
  }],
];

describe.each(NESTINGS)('%s savepoints', (_, holdOpen) => {
  test.each([1, 2, 3])('statement_on_a_transaction_while_its_savepoint_is_open_is_refused_at_depth_%i', async (depth) => {
    const t = await db.transaction();
    await t.query('INSERT INTO sg_t (n) VALUES (1)');
    const sql = 'INSERT INTO sg_t (n) VALUES (2)';
    const refused = await holdOpen(t, depth, async (inner) => {
      // Alone, and in a same-tick batch with the savepoint's own statement.
      const alone = await t.query(sql).catch((e) => e);
      const [batched] = await Promise.allSettled([t.query(sql), inner.query('SELECT 1')]);
      return [alone, batched.reason];
    });
    for (const e of refused) expectRefused(e, sql);
    // The savepoint is gone: the transaction works again and commits what
    // it reported done, and nothing else.
    await t.query('INSERT INTO sg_t (n) VALUES (3)');
    await t.commit();
    expect(await rows()).toEqual([1, 3]);
  });
});

test('statement_issued_before_the_savepoint_began_runs_before_it', async () => {
  // Issued in the same tick, ahead of the savepoint: it reaches the session
  // first, runs in the outer block, and survives the savepoint's rollback.
  await db.transaction(async (t) => {
    const early = t.query('INSERT INTO sg_t (n) VALUES (1)');
    await db.transaction(async () => {
      await db.query('INSERT INTO sg_t (n) VALUES (2)');
      throw new Error('roll the savepoint back');
    }).catch(() => {});
    await early;
  });
  expect(await rows()).toEqual([1]);
});

test('reuse_and_separate_nest_modes_open_no_savepoint_on_the_parent', async () => {
  await db.transaction(async (t) => {
    await db.transaction({ nestMode: 'reuse' }, async (same) => {
      expect(same).toBe(t);
      await t.query('INSERT INTO sg_t (n) VALUES (1)');
    });
    await db.transaction({ nestMode: 'separate' }, async (other) => {
      expect(other.parent).toBeNull();
      await other.query('INSERT INTO sg_t (n) VALUES (2)');
      await t.query('INSERT INTO sg_t (n) VALUES (3)');
    });
  });
  expect(await rows()).toEqual([1, 2, 3]);
});

// One statement per error class, each run `depth` savepoints deep; the
// error that leaves the outermost transaction() is the statement's own.
const FAILURES = [
  ['UniqueConstraintError', '23505', 'INSERT INTO sg_t (n) VALUES (100), (100)'],
  ['ForeignKeyConstraintError', '23503', 'INSERT INTO sg_t (n, ref) VALUES (101, 999)'],
  ['CheckConstraintError', '23514', 'INSERT INTO sg_t (n, v) VALUES (102, -1)'],
  ['NotNullConstraintError', '23502', 'INSERT INTO sg_t (n, v) VALUES (103, NULL)'],
  ['QueryCanceledError', '57014', "SET LOCAL statement_timeout = '1ms'; SELECT pg_sleep(1)"],
  ['NotSupportedError', '0A000', 'COPY sg_t FROM STDIN'],
  ['DatabaseError', '22012', 'SELECT 1/0'],
  ['DatabaseError', '42P01', 'SELECT * FROM sg_no_such_table'],
];

describe.each(NESTINGS)('%s savepoints', (_, holdOpen) => {
  test.each(FAILURES)('errors_keep_their_class_at_any_depth_%s_%s', async (cls, code, sql) => {
    for (const depth of [0, 1, 2, 4]) {
      let thrown;
      const e = await db.transaction(async (t) => holdOpen(t, depth, async (inner) => {
        try {
          await inner.query(sql);
        } catch (err) {
          thrown = err;
          throw err;
        }
      })).catch((x) => x);
      expect({ depth, cls: e && e.constructor.name, code: e && e.code })
        .toEqual({ depth, cls, code });
      expect(e).toBe(thrown);
      expect(e).toBeInstanceOf(pgatomic[cls]);
    }
    expect(await rows()).toEqual([]);
  });
});
