'use strict';
// Kysely on pgatomic/pg, configured the ordinary way:
// new PostgresDialect({ pool: new Pool(...) }) with pgatomic/pg's Pool.
// Kysely nests as savepoints of a controlled transaction
// (db.startTransaction(), trx.savepoint(), releaseSavepoint, rollbackToSavepoint).
const { Kysely, PostgresDialect, sql } = require('kysely');
const { pg, pgConfig, defineScenarios } = require('./orm-helpers');

const T = 'orm_kysely';

defineScenarios(T, () => {
  const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...pgConfig(), max: 3 }) }) });
  let n = 0;
  return {
    async tx(fn, o = {}) {
      const start = db.startTransaction();
      const trx = await (o.serializable ? start.setIsolationLevel('serializable') : start).execute();
      let result;
      try {
        result = await fn(trx);
      } catch (err) {
        await trx.rollback().execute();
        throw err;
      }
      try {
        await trx.commit().execute();
      } catch (err) {
        // A failed COMMIT leaves the connection reserved until rollback.
        await trx.rollback().execute().catch(() => {});
        throw err;
      }
      return result;
    },
    async nest(trx, fn) {
      const name = `sp${++n}`;
      const sp = await trx.savepoint(name).execute();
      try {
        await fn(sp);
      } catch (err) {
        await sp.rollbackToSavepoint(name).execute();
        throw err;
      }
      await sp.releaseSavepoint(name).execute();
    },
    insert: (trx, id) => trx.insertInto(T).values({ id }).execute(),
    isolation: async (trx) => (await sql`SELECT current_setting('transaction_isolation') AS iso`.execute(trx)).rows[0].iso,
    fail: (trx) => sql`SELECT 1/0`.execute(trx).catch(() => {}),
    driverError: (e) => e,
    close: () => db.destroy(),
  };
});

// Kysely's own transaction() (not controlled) commits and rolls back too.
test('kysely_transaction_execute_commits', async () => {
  const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...pgConfig(), max: 1 }) }) });
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto(T).values({ id: 7 }).execute();
    });
    const rows = await db.selectFrom(T).select('id').execute();
    expect(rows).toEqual([{ id: 7 }]);
  } finally {
    await db.destroy();
  }
});
