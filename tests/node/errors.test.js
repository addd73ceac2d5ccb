'use strict';
// Error classes by SQLSTATE kind, their fields, and the binding's tables
// checked against the core's lists (PGA_ERRNO_MAP, PGA_KIND_MAP).
const { pgatomic, openDb, waitFor } = require('./helpers');
const binding = require('../../node/lib/native');
const { CODE_CLASSES, KIND_CLASSES } = require('../../node/lib/errors');

let db;
beforeAll(async () => {
  db = openDb({ max: 3 });
  await db.query('DROP TABLE IF EXISTS err_child, err_parent');
  await db.query('CREATE TABLE err_parent (id int PRIMARY KEY, v int CHECK (v > 0), n text NOT NULL DEFAULT \'x\')');
  await db.query('CREATE TABLE err_child (pid int REFERENCES err_parent (id))');
});
afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS err_child, err_parent');
  await db.close();
});

test('every_core_code_and_kind_has_a_class', () => {
  expect(Object.keys(binding.codes).sort()).toEqual(Object.keys(CODE_CLASSES).sort());
  for (const kind of binding.kinds) expect(KIND_CLASSES[kind]).toBeDefined();
  expect(binding.kinds.length).toBe(Object.keys(KIND_CLASSES).length);
});

test('all_error_classes_are_errors', () => {
  for (const name of ['DatabaseError', 'UniqueConstraintError', 'ForeignKeyConstraintError',
    'ExclusionConstraintError', 'NotNullConstraintError', 'CheckConstraintError',
    'SerializationError', 'DeadlockError', 'QueryCanceledError', 'ConnectionError',
    'CommitOutcomeUnknownError', 'TransactionError']) {
    expect(new pgatomic.errors[name]('x')).toBeInstanceOf(Error);
    expect(pgatomic[name]).toBe(pgatomic.errors[name]);
  }
});

test('integrity_errors_by_sqlstate_with_fields', async () => {
  await db.query('INSERT INTO err_parent (id, v) VALUES (1, 1)');
  const dup = await db.query('INSERT INTO err_parent (id, v) VALUES (1, 1)').catch((e) => e);
  expect(dup).toBeInstanceOf(pgatomic.UniqueConstraintError);
  expect(dup).toMatchObject({ code: '23505', table: 'err_parent', schema: 'public', constraint: 'err_parent_pkey' });
  expect(dup.detail).toBe('Key (id)=(1) already exists.');
  expect(dup.sql).toBe('INSERT INTO err_parent (id, v) VALUES (1, 1)');
  expect(dup.parameters).toEqual([]);
  const fk = await db.query('INSERT INTO err_child VALUES (99)').catch((e) => e);
  expect(fk).toBeInstanceOf(pgatomic.ForeignKeyConstraintError);
  expect(fk.code).toBe('23503');
  const chk = await db.query('INSERT INTO err_parent (id, v) VALUES (2, -1)').catch((e) => e);
  expect(chk).toBeInstanceOf(pgatomic.CheckConstraintError);
  expect(chk.constraint).toBe('err_parent_v_check');
  const nn = await db.query('INSERT INTO err_parent (id, v, n) VALUES (3, 1, NULL)').catch((e) => e);
  expect(nn).toBeInstanceOf(pgatomic.NotNullConstraintError);
  expect(nn.column).toBe('n');
  const other = await db.query('SELECT 1/0').catch((e) => e);
  expect(other.constructor).toBe(pgatomic.DatabaseError);
  expect(other.code).toBe('22012');
});

test('query_canceled_by_statement_timeout', async () => {
  const e = await db.transaction(async () => {
    await db.query("SET LOCAL statement_timeout = '50ms'");
    await db.query('SELECT pg_sleep(2)');
  }).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(e.code).toBe('57014');
});

test('statement_after_an_error_in_a_transaction_is_refused_with_the_cause', async () => {
  await db.transaction(async () => {
    const first = await db.query('SELECT 1/0').catch((x) => x);
    const second = await db.query('SELECT 1').catch((x) => x);
    expect(second).toBeInstanceOf(pgatomic.DatabaseError);
    expect(second.code).toBe('25P02');
    expect(second.message).toBe('current transaction is aborted, commands ignored until end of transaction block');
    expect(second.cause).toBeInstanceOf(pgatomic.DatabaseError);
    expect(second.cause.code).toBe(first.code);
    throw new Error('leave');
  }).catch(() => {});
});

test('serialization_failure_is_a_SerializationError', async () => {
  await db.query('INSERT INTO err_parent (id, v) VALUES (10, 1) ON CONFLICT DO NOTHING');
  const S = pgatomic.Transaction.ISOLATION_LEVELS.SERIALIZABLE;
  const a = await db.transaction({ isolationLevel: S });
  const b = await db.transaction({ isolationLevel: S });
  await a.query('SELECT v FROM err_parent WHERE id = 10');
  await b.query('SELECT v FROM err_parent WHERE id = 10');
  await a.query('UPDATE err_parent SET v = v + 1 WHERE id = 10');
  await a.commit();
  const e = await b.query('UPDATE err_parent SET v = v + 1 WHERE id = 10').catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.SerializationError);
  expect(e.code).toBe('40001');
  await b.rollback();
  expect(b.finished).toBe('rollback');
});

test('connection_lost_during_commit_is_CommitOutcomeUnknownError', async () => {
  // A deferred constraint trigger sleeps inside COMMIT; the session is
  // terminated from outside while COMMIT is in flight: once the server is
  // seen in that sleep (a fixed pause could end before COMMIT ran, or after
  // it finished, on a loaded machine).  The kill ends the sleep; its length
  // only bounds a kill that never comes.
  await db.query(`CREATE OR REPLACE FUNCTION err_slow() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$`);
  await db.query('DROP TABLE IF EXISTS err_slow_t');
  await db.query('CREATE TABLE err_slow_t (n int)');
  await db.query(`CREATE CONSTRAINT TRIGGER err_slow_trg AFTER INSERT ON err_slow_t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION err_slow()`);
  const t = await db.transaction();
  const pid = (await t.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  await t.query('INSERT INTO err_slow_t VALUES (1)');
  const committing = t.commit().catch((x) => x);
  await waitFor(async () => (await db.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
    [pid], { transaction: null })).rows[0].n === 1, 20000, 'COMMIT running the deferred trigger');
  await db.query('SELECT pg_terminate_backend($1)', [pid], { transaction: null });
  const e = await committing;
  expect(e).toBeInstanceOf(pgatomic.CommitOutcomeUnknownError);
  expect(t.finished).toBe('unknown');
  // The broken session is not reused.
  expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  await db.query('DROP TABLE err_slow_t');
});

test('exclusion_violation_is_an_ExclusionConstraintError', async () => {
  await db.query('DROP TABLE IF EXISTS err_excl');
  await db.query('CREATE TABLE err_excl (r int4range, EXCLUDE USING gist (r WITH &&))');
  await db.query("INSERT INTO err_excl VALUES ('[1,5)')");
  const e = await db.query("INSERT INTO err_excl VALUES ('[3,8)')").catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.ExclusionConstraintError);
  expect(e.code).toBe('23P01');
  await db.query('DROP TABLE err_excl');
});

test('deadlock_is_a_DeadlockError_and_the_other_transaction_commits', async () => {
  await db.query('DROP TABLE IF EXISTS err_dl');
  await db.query('CREATE TABLE err_dl (id int PRIMARY KEY, v int)');
  await db.query('INSERT INTO err_dl VALUES (1, 0), (2, 0)');
  const a = await db.transaction();
  const b = await db.transaction();
  await a.query('UPDATE err_dl SET v = v + 1 WHERE id = 1');
  await b.query('UPDATE err_dl SET v = v + 1 WHERE id = 2');
  const results = await Promise.allSettled([
    a.query('UPDATE err_dl SET v = v + 1 WHERE id = 2'),
    b.query('UPDATE err_dl SET v = v + 1 WHERE id = 1'),
  ]);
  const rejected = results.filter((r) => r.status === 'rejected');
  expect(rejected).toHaveLength(1);
  expect(rejected[0].reason).toBeInstanceOf(pgatomic.DeadlockError);
  expect(rejected[0].reason.code).toBe('40P01');
  const [loser, winner] = results[0].status === 'rejected' ? [a, b] : [b, a];
  await loser.rollback();
  await winner.commit();
  const rows = (await db.query('SELECT sum(v)::int AS s FROM err_dl')).rows[0].s;
  expect(rows).toBe(2);
  await db.query('DROP TABLE err_dl');
});
