'use strict';
// knex on pgatomic/pg, configured the ordinary way (knex 3.3's
// connectionPool option takes a pg Pool: pgatomic/pg's).
const knexFactory = require('knex');
const { pg, pgConfig, defineScenarios } = require('./orm-helpers');

const T = 'orm_knex';

defineScenarios(T, () => {
  const pool = new pg.Pool({ ...pgConfig(), max: 3 });
  const knex = knexFactory({ client: 'pg', connectionPool: pool });
  return {
    tx: (fn, o = {}) => knex.transaction(fn, o.serializable ? { isolationLevel: 'serializable' } : {}),
    nest: (trx, fn) => trx.transaction(fn),
    insert: (trx, id) => trx(T).insert({ id }),
    isolation: async (trx) => (await trx.raw("SELECT current_setting('transaction_isolation') AS iso")).rows[0].iso,
    fail: (trx) => trx.raw('SELECT 1/0').catch(() => {}),
    driverError: (e) => e,
    // knex leaves a pool it was given open: its idle clients would outlive
    // the file, and a later server restart (faults.test.js) made one emit
    // an 'error' nobody listened for.
    close: async () => {
      await knex.destroy();
      await pool.end();
    },
  };
});
