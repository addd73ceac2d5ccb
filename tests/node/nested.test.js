'use strict';
// Nested transaction() calls become savepoints (they never deadlock the
// pool): the scenario names match the Python and C suites.
const { pgatomic, openDb } = require('./helpers');

const T = 'nested_rows';
let db;

beforeAll(async () => {
  db = openDb({ max: 1 });  // one connection: nesting must not need a second
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (name text PRIMARY KEY)`);
});

afterAll(async () => {
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.close();
});

beforeEach(() => db.query(`TRUNCATE ${T}`));

const insert = (name) => db.query(`INSERT INTO ${T} (name) VALUES ($1)`, [name]);
const names = async () => (await db.query(`SELECT name FROM ${T} ORDER BY name`, [],
  { transaction: null })).rows.map((r) => r.name);

test('nested_failure_rolls_back_to_savepoint', async () => {
  const result = await db.transaction(async () => {
    await insert('a-outer');
    await db.transaction(async () => {
      await insert('b-inner');
      throw new Error('inner');
    }).catch((e) => expect(e.message).toBe('inner'));
    await insert('c-outer');
    return 'done';
  });
  expect(result).toBe('done');
  expect(await names()).toEqual(['a-outer', 'c-outer']);
});

test('nested_database_error_rolls_back_to_savepoint_and_outer_goes_on', async () => {
  await db.transaction(async () => {
    await insert('dup');
    const err = await db.transaction(async () => {
      await insert('x-inner');
      await insert('dup');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.UniqueConstraintError);
    await insert('y-after');  // the outer transaction is usable again
  });
  expect(await names()).toEqual(['dup', 'y-after']);
});

test('afterCommit_of_a_rolled_back_savepoint_never_runs', async () => {
  const calls = [];
  await db.transaction(async (outer) => {
    outer.afterCommit(() => calls.push('outer'));
    await db.transaction(async (sp) => {
      sp.afterCommit(() => calls.push('savepoint'));
      sp.afterRollback(() => calls.push('savepoint rolled back'));
      await insert('sp');
      throw new Error('undo savepoint');
    }).catch(() => {});
    await insert('outer');
  });
  expect(calls).toEqual(['savepoint rolled back', 'outer']);
  expect(await names()).toEqual(['outer']);
});

test('afterCommit_of_a_released_savepoint_waits_for_root_and_is_dropped_by_root_rollback', async () => {
  const calls = [];
  await db.transaction(async () => {
    await db.transaction(async (sp) => {
      sp.afterCommit(() => calls.push('sp commit'));
      sp.afterRollback(() => calls.push('sp rollback'));
      await insert('sp');
    });
    expect(calls).toEqual([]);
    throw new Error('undo root');
  }).catch(() => {});
  expect(calls).toEqual(['sp rollback']);
  expect(await names()).toEqual([]);
});

test('three_levels_deep_with_middle_failure', async () => {
  await db.transaction(async () => {
    await insert('l1');
    await db.transaction(async () => {
      await insert('l2');
      await db.transaction(async () => {
        await insert('l3');
      });
      throw new Error('undo l2 and l3');
    }).catch(() => {});
  });
  expect(await names()).toEqual(['l1']);
});

test('concurrent_queries_inside_one_transaction_are_serialised', async () => {
  await db.transaction(async () => {
    await Promise.all(['p1', 'p2', 'p3', 'p4'].map(insert));
  });
  expect(await names()).toEqual(['p1', 'p2', 'p3', 'p4']);
});
