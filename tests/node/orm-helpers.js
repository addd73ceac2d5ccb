'use strict';
// What the ORM tests share: the test server's settings as each ORM's config
// wants them, and a table per ORM.
const pg = require('../../node/pg');

// pg's config keys for the server named by PG* (a unix socket directory).
function pgConfig() {
  return {
    host: process.env.PGHOST,
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER,
    database: process.env.PGDATABASE,
  };
}

// A fresh table `name` (id int PRIMARY KEY) and a function returning its ids.
async function table(name) {
  const c = new pg.Client();
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id int PRIMARY KEY)`);
  await c.end();
  return async () => {
    const r = new pg.Client();
    await r.connect();
    try {
      return (await r.query(`SELECT id FROM ${name} ORDER BY id`)).rows.map((x) => x.id);
    } finally {
      await r.end();
    }
  };
}

async function clear(name) {
  const c = new pg.Client();
  await c.connect();
  await c.query(`TRUNCATE ${name}`);
  await c.end();
}

module.exports = { pg, pgConfig, table, clear };

// The five scenarios every ORM runs, under the same test names.  orm gives:
//   tx(fn, { serializable })  a transaction running fn(handle), resolving
//                             with fn's value
//   nest(handle, fn)          a nested transaction (a savepoint) of handle
//   insert(handle, id)        INSERT INTO <table> VALUES (id)
//   isolation(handle)         current_setting('transaction_isolation')
//   fail(handle)              SELECT 1/0, its rejection caught
//   driverError(err)          the pgatomic/pg error inside the ORM's
function defineScenarios(name, makeOrm) {
  let orm;
  let ids;
  beforeAll(async () => {
    ids = await table(name);
    orm = await makeOrm();
  });
  afterAll(() => orm && orm.close());
  beforeEach(() => clear(name));

  test('orm_transaction_commits', async () => {
    await orm.tx(async (h) => {
      await orm.insert(h, 1);
      await orm.insert(h, 2);
    });
    expect(await ids()).toEqual([1, 2]);
  });

  test('orm_nested_transaction_commits', async () => {
    await orm.tx(async (h) => {
      await orm.insert(h, 1);
      await orm.nest(h, (inner) => orm.insert(inner, 2));
    });
    expect(await ids()).toEqual([1, 2]);
  });

  test('orm_failing_nested_transaction_rolls_back_alone', async () => {
    await orm.tx(async (h) => {
      await orm.insert(h, 1);
      await expect(orm.nest(h, async (inner) => {
        await orm.insert(inner, 2);
        throw new Error('inner fails');
      })).rejects.toThrow('inner fails');
      await orm.insert(h, 3);
    });
    expect(await ids()).toEqual([1, 3]);
  });

  test('orm_isolation_level_reaches_the_server', async () => {
    expect(await orm.tx((h) => orm.isolation(h), { serializable: true })).toBe('serializable');
  });

  // A statement failed and the caller caught it: the server answers COMMIT
  // with ROLLBACK, and the ORM's commit fails with the driver's 25P02.
  test('orm_commit_answered_with_rollback_rejects', async () => {
    const e = await orm.tx(async (h) => {
      await orm.insert(h, 1);
      await orm.fail(h);
    }).then(() => null, (x) => x);
    expect(e).toBeInstanceOf(Error);
    const cause = orm.driverError(e);
    expect(cause).toBeInstanceOf(pg.DatabaseError);
    expect(cause.code).toBe('25P02');
    expect(await ids()).toEqual([]);
  });
}

module.exports.defineScenarios = defineScenarios;
