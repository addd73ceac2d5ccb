'use strict';
// pgatomic/pg puts its sessions in the engine's SQL control mode: the
// BEGIN / SAVEPOINT / RELEASE / ROLLBACK TO / SET TRANSACTION that ORMs send
// as text cost no round trip of their own, and a COMMIT the server answers
// with ROLLBACK rejects.  Round trips are counted on the wire by the proxy
// (tests/proxy); the shapes and the expected counts are the "with deferral"
// column of research/orm-integration.md section 2.
const pg = require('../../node/pg');
const { startProxy } = require('./helpers');

const T = 'pgctl_t';
let proxy;
let admin;

function proxied(extra) {
  const m = /port=(\d+) dbname=(\S+) user=(\S+)/.exec(proxy.url);
  return new pg.Client({ host: '127.0.0.1', port: Number(m[1]), database: m[2], user: m[3], ...extra });
}

beforeAll(async () => {
  proxy = await startProxy();
  admin = new pg.Client();
  await admin.connect();
  await admin.query(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, v int)`);
});

afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${T}`);
  await admin.end();
  await proxy.stop();
});

beforeEach(() => admin.query(`TRUNCATE ${T}`));

// Runs statements in order (awaiting each, as ORMs do), swallowing the
// errors listed as expected; returns the round trips the proxy counted.
async function trips(client, statements) {
  await admin.query(`TRUNCATE ${T}`);
  await proxy.control('reset');
  for (const s of statements) {
    if (typeof s === 'string') await client.query(s);
    else await client.query(s.sql).then(() => { throw new Error(`${s.sql} should fail`); }, () => {});
  }
  return (await proxy.stats()).round_trips;
}

const shapes = {
  // Sequelize 6: START TRANSACTION, a separate SET TRANSACTION, quoted
  // savepoints, never RELEASE.
  sequelize: {
    insert: ['START TRANSACTION;', `INSERT INTO ${T} VALUES (1, 1)`, 'COMMIT;'],
    serializable: ['START TRANSACTION;', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;',
      `SELECT * FROM ${T}`, 'COMMIT;'],
    nested: ['START TRANSACTION;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT "6b1f-sp-1";',
      `INSERT INTO ${T} VALUES (2, 2)`, 'COMMIT;'],
    updates: ['START TRANSACTION;', `UPDATE ${T} SET v = 1`, `UPDATE ${T} SET v = 2`, 'COMMIT;'],
    nestedThrows: ['START TRANSACTION;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT "6b1f-sp-1";',
      `INSERT INTO ${T} VALUES (2, 2)`, 'ROLLBACK TO SAVEPOINT "6b1f-sp-1";', 'COMMIT;'],
    nestedFails: ['START TRANSACTION;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT "6b1f-sp-1";',
      `INSERT INTO ${T} VALUES (2, 2)`, { sql: `INSERT INTO ${T} VALUES (1, 1)` },
      'ROLLBACK TO SAVEPOINT "6b1f-sp-1";', 'COMMIT;'],
    empty: ['START TRANSACTION;', 'COMMIT;'],
  },
  // knex: isolation inside BEGIN, RELEASE SAVEPOINT.
  knex: {
    insert: ['BEGIN;', `INSERT INTO ${T} VALUES (1, 1)`, 'COMMIT;'],
    serializable: ['BEGIN TRANSACTION ISOLATION LEVEL serializable;', `SELECT * FROM ${T}`, 'COMMIT;'],
    nested: ['BEGIN;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT trx3;',
      `INSERT INTO ${T} VALUES (2, 2)`, 'RELEASE SAVEPOINT trx3;', 'COMMIT;'],
    updates: ['BEGIN;', `UPDATE ${T} SET v = 1`, `UPDATE ${T} SET v = 2`, 'COMMIT;'],
    nestedThrows: ['BEGIN;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT trx3;',
      `INSERT INTO ${T} VALUES (2, 2)`, 'ROLLBACK TO SAVEPOINT trx3', 'COMMIT;'],
    nestedFails: ['BEGIN;', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT trx3;',
      `INSERT INTO ${T} VALUES (2, 2)`, { sql: `INSERT INTO ${T} VALUES (1, 1)` },
      'ROLLBACK TO SAVEPOINT trx3', 'COMMIT;'],
    empty: ['BEGIN;', 'COMMIT;'],
  },
  // Prisma: a separate SET TRANSACTION, ROLLBACK TO then RELEASE.
  prisma: {
    insert: ['BEGIN', `INSERT INTO ${T} VALUES (1, 1)`, 'COMMIT'],
    serializable: ['BEGIN', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', `SELECT * FROM ${T}`, 'COMMIT'],
    nested: ['BEGIN', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT prisma_sp_0',
      `INSERT INTO ${T} VALUES (2, 2)`, 'RELEASE SAVEPOINT prisma_sp_0', 'COMMIT'],
    updates: ['BEGIN', `UPDATE ${T} SET v = 1`, `UPDATE ${T} SET v = 2`, 'COMMIT'],
    nestedThrows: ['BEGIN', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT prisma_sp_0',
      `INSERT INTO ${T} VALUES (2, 2)`, 'ROLLBACK TO SAVEPOINT prisma_sp_0',
      'RELEASE SAVEPOINT prisma_sp_0', 'COMMIT'],
    nestedFails: ['BEGIN', `INSERT INTO ${T} VALUES (1, 1)`, 'SAVEPOINT prisma_sp_0',
      `INSERT INTO ${T} VALUES (2, 2)`, { sql: `INSERT INTO ${T} VALUES (1, 1)` },
      'ROLLBACK TO SAVEPOINT prisma_sp_0', 'RELEASE SAVEPOINT prisma_sp_0', 'COMMIT'],
    empty: ['BEGIN', 'COMMIT'],
  },
};

describe.each(Object.keys(shapes))('%s statements', (orm) => {
  test('pg_orm_sql_transaction_round_trips_with_deferral', async () => {
    const c = proxied();
    await c.connect();
    try {
      const s = shapes[orm];
      expect(await trips(c, s.insert)).toBe(2);
      expect(await trips(c, s.updates)).toBe(3);
      expect(await trips(c, s.serializable)).toBe(2);
      expect(await trips(c, s.nested)).toBe(3);
      expect(await trips(c, s.nestedThrows)).toBe(3);
      expect((await admin.query(`SELECT id FROM ${T} ORDER BY id`)).rows).toEqual([{ id: 1 }]);
      // The failing INSERT is a round trip of its own: it is awaited.
      expect(await trips(c, s.nestedFails)).toBe(4);
      expect((await admin.query(`SELECT id FROM ${T} ORDER BY id`)).rows).toEqual([{ id: 1 }]);
      expect(await trips(c, s.empty)).toBe(0);
      expect(await trips(c, [s.empty[0], s.nested[2], s.empty[1]])).toBe(0);
    } finally {
      await c.end();
    }
  });
});

test('pg_set_transaction_isolation_reaches_the_deferred_begin', async () => {
  const c = new pg.Client();
  await c.connect();
  await c.query('START TRANSACTION');
  await c.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
  const r = await c.query("SELECT current_setting('transaction_isolation') AS iso");
  expect(r.rows[0].iso).toBe('serializable');
  await c.query('COMMIT');
  // After the first statement the server's own answer: 25001.
  await c.query('BEGIN');
  await c.query('SELECT 1');
  const e = await c.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE').catch((x) => x);
  expect(e).toBeInstanceOf(pg.DatabaseError);
  expect(e.code).toBe('25001');
  await c.query('ROLLBACK');
  await c.end();
});

test('pg_control_statement_results_have_pgs_command_tags', async () => {
  const c = new pg.Client();
  await c.connect();
  const got = [];
  for (const sql of ['BEGIN', 'SET TRANSACTION READ ONLY', 'SAVEPOINT a', 'RELEASE SAVEPOINT a',
    'SAVEPOINT b', 'ROLLBACK TO SAVEPOINT b', 'COMMIT', 'START TRANSACTION', 'ROLLBACK']) {
    const r = await c.query(sql);
    got.push([r.command, r.rowCount, r.rows.length]);
  }
  expect(got).toEqual([['BEGIN', null, 0], ['SET', null, 0], ['SAVEPOINT', null, 0],
    ['RELEASE', null, 0], ['SAVEPOINT', null, 0], ['ROLLBACK', null, 0], ['COMMIT', null, 0],
    ['START', null, 0], ['ROLLBACK', null, 0]]);
  await c.end();
});

test('pg_commit_answered_with_rollback_rejects', async () => {
  const c = new pg.Client();
  await c.connect();
  await c.query('BEGIN');
  await c.query(`INSERT INTO ${T} VALUES (1, 1)`);
  const failed = await c.query('SELECT 1/0').catch((x) => x);
  expect(failed.code).toBe('22012');
  // What pg would have sent gets the server's answer: 25P02.
  const ignored = await c.query('SELECT 1').catch((x) => x);
  expect([ignored.code, ignored.message])
    .toEqual(['25P02', 'current transaction is aborted, commands ignored until end of transaction block']);
  expect(c.getTransactionStatus()).toBe('E');
  const e = await c.query('COMMIT').catch((x) => x);
  expect(e).toBeInstanceOf(pg.DatabaseError);
  expect(e.code).toBe('25P02');
  expect(e.message).toMatch(/ROLLBACK/);
  expect(e.cause).toBe(failed);
  expect(c.getTransactionStatus()).toBe('I');
  // Nothing was committed, and the client goes on.
  expect((await c.query(`SELECT count(*)::int AS n FROM ${T}`)).rows[0].n).toBe(0);
  await c.end();
});

test('pg_sqlControls_false_sends_each_statement_as_pg_does', async () => {
  const c = proxied({ sqlControls: false });
  await c.connect();
  expect(await trips(c, shapes.knex.nested)).toBe(6);
  await c.query('BEGIN');
  await c.query('SELECT 1/0').catch(() => {});
  // COMMIT of a failed transaction: the server's ROLLBACK tag, as data.
  expect((await c.query('COMMIT')).command).toBe('ROLLBACK');
  await c.end();
});

test('pg_promise_all_with_a_control_statement_keeps_its_order', async () => {
  const c = new pg.Client();
  await c.connect();
  const out = await Promise.all([
    c.query('BEGIN'),
    c.query(`INSERT INTO ${T} VALUES (1, 1)`),
    c.query(`INSERT INTO ${T} VALUES (2, 2)`),
    c.query('SAVEPOINT s'),
    c.query(`INSERT INTO ${T} VALUES (3, 3)`),
    c.query('ROLLBACK TO SAVEPOINT s'),
    c.query('COMMIT'),
  ]);
  expect(out.map((r) => r.command)).toEqual(['BEGIN', 'INSERT', 'INSERT', 'SAVEPOINT', 'INSERT', 'ROLLBACK', 'COMMIT']);
  expect((await admin.query(`SELECT id FROM ${T} ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 2 }]);
  await c.end();
});

test('pg_release_of_an_unknown_savepoint_is_the_servers_error', async () => {
  const c = new pg.Client();
  await c.connect();
  await c.query('BEGIN');
  const e = await c.query('RELEASE SAVEPOINT nope').catch((x) => x);
  expect(e.code).toBe('3B001');
  await c.query('ROLLBACK');
  const outside = await c.query('SAVEPOINT x').catch((x) => x);
  expect([outside.code, outside.message]).toEqual(['25P01', 'SAVEPOINT can only be used in transaction blocks']);
  await c.end();
});
