'use strict';
// TypeORM on pgatomic/pg, configured the ordinary way: its `driver` option
// (TypeORM: "This defaults to require('pg')").
require('reflect-metadata');
const { DataSource } = require('typeorm');
const { pg, pgConfig, defineScenarios } = require('./orm-helpers');

const T = 'orm_typeorm';

defineScenarios(T, async () => {
  const c = pgConfig();
  const ds = new DataSource({
    type: 'postgres', host: c.host, port: c.port, username: c.user, database: c.database, driver: pg,
  });
  await ds.initialize();
  return {
    tx: (fn, o = {}) => (o.serializable ? ds.transaction('SERIALIZABLE', fn) : ds.transaction(fn)),
    nest: (m, fn) => m.transaction(fn),
    insert: (m, id) => m.query(`INSERT INTO ${T} VALUES ($1)`, [id]),
    isolation: async (m) => (await m.query("SELECT current_setting('transaction_isolation') AS iso"))[0].iso,
    fail: (m) => m.query('SELECT 1/0').catch(() => {}),
    // TypeORM's QueryFailedError keeps the driver's error.
    driverError: (e) => e.driverError,
    close: () => ds.destroy(),
  };
});
