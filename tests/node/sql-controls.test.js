'use strict';
// The addon's SQL control mode and named savepoints (core: pgatomic.h
// "Control statements written as SQL", "Savepoints by name"), which the
// pg-compatible driver builds on.  Same scenarios as tests/c/test_sql_controls.c.
const binding = require('../../node/lib/native');
const { startProxy } = require('./helpers');

async function open() {
  const c = new binding.Connection();
  await c.connect(process.env.DATABASE_URL || '');
  return c;
}

async function fresh(c) {
  await c.query('DROP TABLE IF EXISTS sc_node; CREATE TABLE sc_node (id int PRIMARY KEY)');
}

test('sql_controls_answered_without_a_round_trip', async () => {
  const c = await open();
  try {
    c.setSqlControls(true);
    const before = c.roundTrips();
    const tags = [];
    for (const sql of ['BEGIN', 'SET TRANSACTION READ ONLY', 'SAVEPOINT a', 'RELEASE a',
      'START TRANSACTION', 'COMMIT', 'ROLLBACK']) {
      const r = await c.query(sql);
      tags.push(r.command);
      expect(r.rows).toEqual([]);
      expect(r.rowCount).toBeNull();
    }
    expect(tags).toEqual(['BEGIN', 'SET', 'SAVEPOINT', 'RELEASE', 'START', 'COMMIT', 'ROLLBACK']);
    expect(c.roundTrips()).toBe(before);
  } finally {
    c.close();
  }
});

test('sql_controls_local_errors_are_the_servers', async () => {
  const c = await open();
  try {
    c.setSqlControls(true);
    await expect(c.query('SAVEPOINT a')).rejects.toMatchObject({
      code: '25P01', message: 'SAVEPOINT can only be used in transaction blocks' });
    await c.query('BEGIN');
    await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    const before = c.roundTrips();
    await expect(c.query('RELEASE a')).rejects.toMatchObject({ code: '25P02' });
    expect(c.roundTrips()).toBe(before);
    await expect(c.query('COMMIT')).rejects.toThrow(/ROLLBACK/);
  } finally {
    c.close();
  }
});

test('wire_orm_sql_nested_block_is_three_round_trips', async () => {
  const proxy = await startProxy();
  const c = new binding.Connection();
  try {
    await c.connect(proxy.url);
    await fresh(c);
    c.setSqlControls(true);
    await proxy.control('reset');
    for (const sql of ['START TRANSACTION', 'INSERT INTO sc_node VALUES (1)', 'SAVEPOINT typeorm_1',
      'INSERT INTO sc_node VALUES (2)', 'RELEASE SAVEPOINT typeorm_1', 'COMMIT']) {
      await c.query(sql);
    }
    expect((await proxy.stats()).round_trips).toBe(3);
    const r = await c.query('SELECT sum(id)::int AS s FROM sc_node');
    expect(r.rows[0].s).toBe(3);
  } finally {
    c.close();
    await proxy.stop();
  }
});

test('named_savepoints_deferred', async () => {
  const c = await open();
  try {
    await fresh(c);
    expect(c.savepoint('x')).toBeNull();          // outside a transaction: nothing
    c.setAutocommit(false);
    const before = c.roundTrips();
    expect(c.savepoint('sp1')).toBe('sp1');
    expect(c.savepoint()).toMatch(/^pga_s\d+$/);
    expect(c.roundTrips()).toBe(before);
    await c.query('INSERT INTO sc_node VALUES (1)');
    c.savepoint('a"b');
    await c.query('INSERT INTO sc_node VALUES (2)');
    c.rollbackToSavepoint('a"b');
    c.releaseSavepoint('sp1');
    expect(() => c.releaseSavepoint('sp1')).toThrow(/no such savepoint/);
    expect(() => c.savepoint('')).toThrow(/savepoint name/);
    await c.query('COMMIT');
    const r = await c.query('SELECT coalesce(sum(id), 0)::int AS s FROM sc_node');
    expect(r.rows[0].s).toBe(1);
  } finally {
    c.close();
  }
});

test('sql_controls_late_transaction_options', async () => {
  const c = await open();
  try {
    c.setSqlControls(true);
    c.setAutocommit(false);
    c.savepoint('early');
    c.setTxnOptions(binding.flags.ISO_SERIALIZABLE | binding.flags.READ_ONLY);
    const r = await c.query("SELECT current_setting('transaction_isolation') AS i, "
      + "current_setting('transaction_read_only') AS ro");
    expect(r.rows[0]).toEqual({ i: 'serializable', ro: 'on' });
    expect(() => c.setTxnOptions(0)).toThrow();
    await c.query('ROLLBACK');
    expect(() => c.setTxnOptions(binding.flags.READ_ONLY | binding.flags.READ_WRITE)).toThrow();
  } finally {
    c.close();
  }
});

test('outcome_commit_answered_rollback_names_its_reason', async () => {
  const c = await open();
  try {
    c.setSqlControls(true);
    await c.query('BEGIN');
    await c.query('SELECT 1');
    const first = await c.query('SELECT 1/0').catch((x) => x);
    expect(first.code).toBe('22012');
    const err = await c.query('COMMIT').catch((x) => x);
    expect(err.coreCode).toBe('EROLLEDBACK');
    expect(err.cause).toBeDefined();
    expect(err.cause.code).toBe('22012');
    expect(c.outcome()).toMatchObject({ state: 'rolled back', unasked: true });
  } finally {
    c.close();
  }
});
