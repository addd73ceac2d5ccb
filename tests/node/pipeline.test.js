'use strict';
// Pipelined transactions, db.transaction({ pipeline: true }, ...): one round
// trip when nothing is awaited before COMMIT, and what surfaces later than
// in normal mode (docs/pipeline.md).  The same scenario names run in
// tests/c/test_pipeline.c and tests/python/test_pipeline.py.
const { pgatomic, openDb, startProxy } = require('./helpers');

const A = 'pl_node_acc';
const I = 'pl_node_items';
let db;

beforeAll(async () => {
  db = openDb({ max: 1 });
  await db.query(`DROP TABLE IF EXISTS ${A}, ${I}, pl_node_def;
    CREATE TABLE ${A} (id int PRIMARY KEY, b int);
    CREATE TABLE ${I} (id int PRIMARY KEY);
    CREATE TABLE pl_node_def (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)`);
});

afterAll(async () => {
  await db.close();
});

beforeEach(async () => {
  await db.query(`TRUNCATE ${A}, ${I}, pl_node_def; INSERT INTO ${A} VALUES (1, 100), (2, 0)`);
});

async function balances() {
  return (await db.query(`SELECT b FROM ${A} ORDER BY id`)).rows.map((r) => r.b);
}

async function items() {
  return (await db.query(`SELECT id FROM ${I} ORDER BY id`)).rows.map((r) => r.id);
}

test('pipeline_transfer_is_one_round_trip', async () => {
  let trips;
  let results;
  await db.transaction({ pipeline: true }, async (t) => {
    results = [
      t.query(`UPDATE ${A} SET b = b - $1 WHERE id = 1`, [10]),
      t.query(`UPDATE ${A} SET b = b + $1 WHERE id = 2`, [10]),
    ];
    trips = t;
  });
  expect(trips.roundTrips).toBe(1);
  // The promises settle with the flight.
  expect((await results[1]).rowCount).toBe(1);
  expect(await balances()).toEqual([90, 10]);
});

test('pipeline_nested_is_one_round_trip', async () => {
  let outer;
  await db.transaction({ pipeline: true }, async (t) => {
    outer = t;
    t.query(`INSERT INTO ${I} VALUES (1)`);
    await db.transaction(async (t2) => {
      t2.query(`INSERT INTO ${I} VALUES (2)`);
    });
  });
  expect(outer.roundTrips).toBe(1);
  expect(await items()).toEqual([1, 2]);
});

test('pipeline_read_forces_a_round_trip', async () => {
  let outer;
  await db.transaction({ pipeline: true }, async (t) => {
    outer = t;
    t.query(`UPDATE ${A} SET b = b - 10 WHERE id = 1`);
    const r = await t.query(`SELECT b FROM ${A} WHERE id = 1`);
    expect(r.rows[0].b).toBe(90);
    expect(t.roundTrips).toBe(1);
    t.query(`UPDATE ${A} SET b = b + 10 WHERE id = 2`);
  });
  expect(outer.roundTrips).toBe(2);
  expect(await balances()).toEqual([90, 10]);
});

test('pipeline_error_surfaces_at_commit', async () => {
  await db.query(`INSERT INTO ${I} VALUES (5)`);
  const ran = [];
  let dup;
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await expect(db.transaction({ pipeline: true }, async (t) => {
      t.query(`UPDATE ${A} SET b = b - 10 WHERE id = 1`);
      dup = t.query(`INSERT INTO ${I} VALUES (5)`);   // never awaited here
      t.query(`UPDATE ${A} SET b = b + 10 WHERE id = 2`);
      t.afterCommit(() => ran.push(1));
    })).rejects.toMatchObject({ code: '23505', name: 'UniqueConstraintError' });
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(unhandled).toEqual([]);
  expect(ran).toEqual([]);
  await expect(dup).rejects.toMatchObject({ code: '23505' });
  expect(await balances()).toEqual([100, 0]);
});

test('pipeline_error_surfaces_when_a_result_is_read', async () => {
  await db.query(`INSERT INTO ${I} VALUES (5)`);
  let seen;
  await expect(db.transaction({ pipeline: true }, async (t) => {
    const first = t.query(`UPDATE ${A} SET b = b - 10 WHERE id = 1`);
    const dup = t.query(`INSERT INTO ${I} VALUES (5)`);
    const after = t.query(`UPDATE ${A} SET b = b + 10 WHERE id = 2`);
    // Each promise settles with its own statement's outcome.
    expect((await first).rowCount).toBe(1);
    await expect(dup).rejects.toMatchObject({ code: '23505' });
    seen = await after.catch((err) => err);
  })).rejects.toThrow(/rolled back instead of committed/);
  expect(seen.cause).toMatchObject({ code: '23505' });
  expect(await balances()).toEqual([100, 0]);
});

test('pipeline_on_commit_runs_after_commit', async () => {
  const seen = [];
  const other = openDb({ max: 1 });
  try {
    await db.transaction({ pipeline: true }, async (t) => {
      t.query(`INSERT INTO ${I} VALUES (1)`);
      t.afterCommit(async () => {
        seen.push(Number((await other.query(`SELECT count(*) AS n FROM ${I}`)).rows[0].n));
      });
      await db.transaction(async (t2) => {
        t2.query(`INSERT INTO ${I} VALUES (2)`);
        t2.afterCommit(() => seen.push('inner'));
      });
      expect(seen).toEqual([]);
    });
  } finally {
    await other.close();
  }
  expect(seen).toEqual([2, 'inner']);
});

test('pipeline_nested_failure_rolls_back_the_transaction', async () => {
  await db.query(`INSERT INTO ${I} VALUES (5)`);
  const ran = [];
  await expect(db.transaction({ pipeline: true }, async (t) => {
    t.query(`INSERT INTO ${I} VALUES (1)`);
    await db.transaction(async (t2) => {
      t2.query(`INSERT INTO ${I} VALUES (5)`);
      t2.afterCommit(() => ran.push(1));
    });
    // The inner block has exited without knowing; the failure comes with
    // the flight and takes the whole transaction down.
    t.query(`INSERT INTO ${I} VALUES (3)`);
  })).rejects.toMatchObject({ code: '23505' });
  expect(ran).toEqual([]);
  expect(await items()).toEqual([5]);
});

test('pipeline_nested_failure_read_inside_rolls_back_only_the_savepoint', async () => {
  await db.query(`INSERT INTO ${I} VALUES (5)`);
  await db.transaction({ pipeline: true }, async (t) => {
    t.query(`INSERT INTO ${I} VALUES (1)`);
    await expect(db.transaction(async (t2) => {
      await t2.query(`INSERT INTO ${I} VALUES (5)`);
    })).rejects.toMatchObject({ code: '23505' });
    t.query(`INSERT INTO ${I} VALUES (3)`);
  });
  expect(await items()).toEqual([1, 3, 5]);
});

test('pipeline_block_left_by_an_exception_rolls_back_in_one_round_trip', async () => {
  const ran = [];
  let outer;
  await expect(db.transaction({ pipeline: true }, async (t) => {
    outer = t;
    t.query(`INSERT INTO ${I} VALUES (1)`);
    t.afterCommit(() => ran.push(1));
    throw new Error('no');
  })).rejects.toThrow('no');
  expect(outer.roundTrips).toBe(1);
  expect(ran).toEqual([]);
  expect(await items()).toEqual([]);
});

test('pipeline_deferred_constraint_fails_at_commit', async () => {
  await expect(db.transaction({ pipeline: true }, async (t) => {
    t.query('INSERT INTO pl_node_def VALUES (1)');
    t.query('INSERT INTO pl_node_def VALUES (1)');
  })).rejects.toMatchObject({ code: '23505' });
  expect(Number((await db.query('SELECT count(*) AS n FROM pl_node_def')).rows[0].n)).toBe(0);
});

test('pipeline_flag_on_a_nested_block_is_ignored', async () => {
  let outer;
  await db.transaction(async (t) => {
    outer = t;
    await db.transaction({ pipeline: true }, async (t2) => {
      await t2.query(`INSERT INTO ${I} VALUES (1)`);
      expect(t.roundTrips).toBe(1);
    });
  });
  expect(outer.roundTrips).toBe(2);
});

test('pipeline_unmanaged_transaction_commits_in_one_round_trip', async () => {
  const t = await db.transaction({ pipeline: true });
  t.query(`INSERT INTO ${I} VALUES (1)`);
  t.query(`INSERT INTO ${I} VALUES (2)`);
  await t.commit();
  expect(t.roundTrips).toBe(1);
  expect(await items()).toEqual([1, 2]);
});

// ---- counted on the wire (the proxy), as tests/c/test_wire_round_trips.c

describe('on the wire', () => {
  let proxy;
  let pdb;

  beforeAll(async () => {
    proxy = await startProxy();
    pdb = pgatomic.connect(proxy.url, { max: 1 });
    await pdb.query('SELECT 1');
  });

  afterAll(async () => {
    await pdb.close();
    await proxy.stop();
  });

  async function trips(body) {
    await proxy.control('reset');
    await body();
    return (await proxy.stats()).round_trips;
  }

  test('wire_pipeline_transfer', async () => {
    expect(await trips(() => pdb.transaction({ pipeline: true }, async (t) => {
      t.query(`UPDATE ${A} SET b = b - $1 WHERE id = 1`, [1]);
      t.query(`UPDATE ${A} SET b = b + $1 WHERE id = 2`, [1]);
    }))).toBe(1);
    expect(await balances()).toEqual([99, 1]);
  });

  test('wire_pipeline_nested', async () => {
    expect(await trips(() => pdb.transaction({ pipeline: true }, async () => {
      pdb.query(`INSERT INTO ${I} VALUES ($1)`, [1]);
      await pdb.transaction(async () => {
        pdb.query(`INSERT INTO ${I} VALUES ($1)`, [2]);
      });
    }))).toBe(1);
    expect(await items()).toEqual([1, 2]);
  });
});
