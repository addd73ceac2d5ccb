'use strict';
// drizzle-orm (node-postgres) on pgatomic/pg, configured the ordinary way:
// drizzle({ client: new Pool(...) }) with pgatomic/pg's Pool.
const { drizzle } = require('drizzle-orm/node-postgres');
const { sql } = require('drizzle-orm');
const { pg, pgConfig, defineScenarios } = require('./orm-helpers');

const T = 'orm_drizzle';

defineScenarios(T, () => {
  const db = drizzle({ client: new pg.Pool({ ...pgConfig(), max: 3 }) });
  return {
    tx: (fn, o = {}) => db.transaction(fn, o.serializable ? { isolationLevel: 'serializable' } : undefined),
    nest: (tx, fn) => tx.transaction(fn),
    insert: (tx, id) => tx.execute(sql`INSERT INTO ${sql.identifier(T)} VALUES (${id})`),
    isolation: async (tx) => (await tx.execute(sql`SELECT current_setting('transaction_isolation') AS iso`)).rows[0].iso,
    fail: (tx) => tx.execute(sql`SELECT 1/0`).catch(() => {}),
    // drizzle wraps the driver's error: "Failed query: commit".
    driverError: (e) => (/^Failed query: commit/.test(e.message) ? e.cause : e),
    close: () => db.$client.end(),
  };
});
