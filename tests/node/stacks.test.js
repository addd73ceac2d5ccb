'use strict';
// Errors made in the addon's libuv callbacks carry the stack of the caller
// that awaited them (async stack traces), as node-postgres's do: every
// public entry point, for every kind of failure it can report.
const { pgatomic, openDb } = require('./helpers');

let db;
beforeAll(async () => {
  db = openDb({ max: 2 });
  await db.query('DROP TABLE IF EXISTS st_t');
  await db.query(`CREATE TABLE st_t (n int PRIMARY KEY,
    ref int REFERENCES st_t (n) DEFERRABLE INITIALLY DEFERRED)`);
});
afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS st_t');
  await db.close();
});

// Each case: a named async function of "user code" that fails, and the
// class it fails with.
const CASES = [
  ['db.query', pgatomic.DatabaseError, async function userQuery() {
    await db.query('SELECT 1/0');
  }],
  ['transaction.query', pgatomic.UniqueConstraintError, async function userTransactionQuery() {
    await db.transaction(async (t) => { await t.query('INSERT INTO st_t VALUES (1), (1)'); });
  }],
  ['batched query', pgatomic.DatabaseError, async function userBatch() {
    await db.transaction(async (t) => Promise.all([t.query('SELECT 1'), t.query('SELECT 1/0')]));
  }],
  ['commit()', pgatomic.ForeignKeyConstraintError, async function userCommit() {
    const t = await db.transaction();
    await t.query('INSERT INTO st_t VALUES (2, 99)');
    await t.commit();
  }],
  ['managed COMMIT', pgatomic.ForeignKeyConstraintError, async function userManagedCommit() {
    await db.transaction(async (t) => { await t.query('INSERT INTO st_t VALUES (3, 99)'); });
  }],
  ['connect', pgatomic.ConnectionError, async function userConnect() {
    const bad = pgatomic.connect({ database: 'st_no_such_db' });
    try {
      await bad.query('SELECT 1');
    } finally {
      await bad.close();
    }
  }],
  ['unmanaged begin', pgatomic.ConnectionError, async function userBegin() {
    const bad = pgatomic.connect({ database: 'st_no_such_db' });
    try {
      await bad.transaction();
    } finally {
      await bad.close();
    }
  }],
  ['COPY', pgatomic.NotSupportedError, async function userCopy() {
    await db.query('COPY st_t TO STDOUT');
  }],
  ['commitPrepared', pgatomic.DatabaseError, async function userCommitPrepared() {
    await db.commitPrepared('st-no-such-gid');
  }],
];

test.each(CASES)('errors_carry_the_callers_stack_%s', async (_, Cls, userFn) => {
  async function callerOfUserCode() {
    await userFn();
  }
  const e = await callerOfUserCode().catch((x) => x);
  expect(e).toBeInstanceOf(Cls);
  expect(e.stack).toContain(userFn.name);
  expect(e.stack).toContain('callerOfUserCode');
  expect(e.stack.split('\n')[0]).toBe(`${e.name}: ${e.message}`);
});

test('the_users_own_errors_keep_their_stack', async () => {
  const mine = new Error('mine');
  const stack = mine.stack;
  const e = await db.transaction(async () => { throw mine; }).catch((x) => x);
  expect(e).toBe(mine);
  expect(e.stack).toBe(stack);
});
