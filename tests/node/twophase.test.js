'use strict';
// Two-phase commit: t.prepare(gid) on a root transaction, then
// db.commitPrepared / db.rollbackPrepared / db.listPrepared.  Same scenario
// names as tests/c/test_twophase.c and tests/python/test_twophase.py.
const { pgatomic, openDb, count } = require('./helpers');

const T = 'tp_node';
let db;
let admin;

beforeAll(async () => {
  admin = openDb({ max: 1 });
  await admin.query(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`);
});

afterAll(async () => {
  for (const gid of await admin.listPrepared()) {
    if (gid.startsWith('node-')) await admin.rollbackPrepared(gid);
  }
  await admin.close();
});

beforeEach(async () => {
  await admin.query(`TRUNCATE ${T}`);
  db = openDb();
});

afterEach(async () => {
  await db.close();
});

test('twophase_prepare_then_commit_from_a_new_connection', async () => {
  const t = await db.transaction();
  await t.query(`INSERT INTO ${T} VALUES (1)`);
  await t.prepare('node-commit');
  expect(t.finished).toBe('prepared');
  expect(await db.listPrepared()).toContain('node-commit');
  const seen = await admin.query("SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE gid = 'node-commit'");
  expect(seen.rows[0].n).toBe(1);
  expect(await count(admin, T)).toBe(0);
  const other = openDb();
  try {
    await other.commitPrepared('node-commit');
    expect(await other.listPrepared()).not.toContain('node-commit');
  } finally {
    await other.close();
  }
  expect(await count(admin, T)).toBe(1);
  await expect(t.commit()).rejects.toThrow(
    'Transaction cannot be committed because it has been finished with state: prepared');
});

test('twophase_prepare_then_rollback_from_a_new_connection', async () => {
  await db.transaction(async (t) => {
    await t.query(`INSERT INTO ${T} VALUES (1)`);
    await t.prepare('node-rollback');
  });
  const other = openDb();
  try {
    expect(await other.listPrepared()).toContain('node-rollback');
    await other.rollbackPrepared('node-rollback');
    expect(await other.listPrepared()).not.toContain('node-rollback');
  } finally {
    await other.close();
  }
  expect(await count(admin, T)).toBe(0);
});

test('twophase_recover_after_a_client_restart', async () => {
  const t = await db.transaction();
  await t.query(`INSERT INTO ${T} VALUES (7)`);
  await t.prepare('node-recover');
  await db.close();                       // the client goes away
  db = openDb();
  expect(await db.listPrepared()).toContain('node-recover');
  await db.commitPrepared('node-recover');
  expect(await count(admin, T, 'id = 7')).toBe(1);
});

test('twophase_prepare_inside_a_savepoint_is_refused', async () => {
  const t = await db.transaction();
  await t.query(`INSERT INTO ${T} VALUES (1)`);
  const sp = await db.transaction({ transaction: t });
  await sp.query(`INSERT INTO ${T} VALUES (2)`);
  const before = t.roundTrips;
  await expect(sp.prepare('node-sp')).rejects.toThrow(/only a root transaction can be prepared/);
  await expect(t.prepare('')).rejects.toThrow(TypeError);
  expect(t.roundTrips).toBe(before);
  expect(sp.finished).toBeUndefined();
  // nothing was lost: preparing the root releases the savepoint first
  await t.prepare('node-sp');
  expect(sp.finished).toBe('commit');
  await db.commitPrepared('node-sp');
  expect(await count(admin, T)).toBe(2);
});

test('twophase_unknown_gid_is_an_error', async () => {
  await expect(db.commitPrepared('node-nope')).rejects.toMatchObject({ code: '42704' });
  await expect(db.rollbackPrepared('node-nope')).rejects.toMatchObject({ code: '42704' });
  await expect(db.commitPrepared(42)).rejects.toThrow(TypeError);
});

test('twophase_reused_gid_is_an_error', async () => {
  const t1 = await db.transaction();
  await t1.query(`INSERT INTO ${T} VALUES (1)`);
  await t1.prepare('node-twice');
  const t2 = await db.transaction();
  await t2.query(`INSERT INTO ${T} VALUES (2)`);
  await expect(t2.prepare('node-twice')).rejects.toMatchObject({ code: '42710' });
  expect(t2.finished).toBe('rollback');
  expect(await db.listPrepared()).toContain('node-twice');
  await db.commitPrepared('node-twice');    // the first one is untouched
  expect(await count(admin, T)).toBe(1);
  expect(await count(admin, T, 'id = 1')).toBe(1);
});

test('twophase_hooks_wait_for_commit_prepared', async () => {
  const ran = [];
  const t = await db.transaction();
  t.afterCommit(() => ran.push('commit a'));
  t.afterRollback(() => ran.push('rollback a'));
  t.afterTransaction(() => ran.push('after a'));
  await t.query(`INSERT INTO ${T} VALUES (1)`);
  await t.prepare('node-hooks-a');
  expect(ran).toEqual([]);
  // committed through whichever session of the pool is free
  await db.commitPrepared('node-hooks-a');
  expect(ran).toEqual(['commit a', 'after a']);
  const u = await db.transaction();
  u.afterCommit(() => ran.push('commit b'));
  u.afterRollback(() => ran.push('rollback b'));
  await u.prepare('node-hooks-b');          // empty: prepared all the same
  await db.rollbackPrepared('node-hooks-b');
  expect(ran).toEqual(['commit a', 'after a', 'rollback b']);
});

test('twophase_failed_transaction_is_not_prepared', async () => {
  const t = await db.transaction();
  await expect(t.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
  await expect(t.prepare('node-failed')).rejects.toThrow(/rolled back instead of prepared/);
  expect(t.finished).toBe('rollback');
  expect(await db.listPrepared()).not.toContain('node-failed');
});

// PREPARE TRANSACTION written as SQL inside a transaction ends it behind
// the transaction's back (refused as a raw COMMIT is), but as prepared:
// never reported as rolled back, its hooks wait for COMMIT PREPARED.
test('twophase_raw_prepare_inside_a_block_is_prepared', async () => {
  const ran = [];
  let t;
  let raw;
  await db.transaction(async (tx) => {
    t = tx;
    tx.afterCommit(() => ran.push('commit'));
    tx.afterRollback(() => ran.push('rollback'));
    await tx.query(`INSERT INTO ${T} VALUES (5)`);
    raw = await tx.query("PREPARE TRANSACTION 'node-raw'").catch((x) => x);
  });
  expect(raw).toBeInstanceOf(pgatomic.TransactionError);
  expect(t.finished).toBe('prepared');
  expect(ran).toEqual([]);
  expect(await db.listPrepared()).toContain('node-raw');
  await db.commitPrepared('node-raw');
  expect(ran).toEqual(['commit']);
  expect(await count(admin, T, 'id = 5')).toBe(1);
});
