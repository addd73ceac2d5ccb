'use strict';
// Sequelize v6 on pgatomic/pg, configured the ordinary way:
// new Sequelize(..., { dialect: 'postgres', dialectModule: require('pgatomic/pg') }).
const { Sequelize, Transaction } = require('sequelize');
const { pg, pgConfig, defineScenarios } = require('./orm-helpers');

const T = 'orm_sequelize';

defineScenarios(T, () => {
  const c = pgConfig();
  const sequelize = new Sequelize(c.database, c.user, null, {
    host: c.host, port: c.port, dialect: 'postgres', dialectModule: pg, logging: false,
  });
  const query = (t, sql, bind) => sequelize.query(sql, { bind, transaction: t });
  return {
    tx: (fn, o = {}) => sequelize.transaction(
      o.serializable ? { isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE } : {}, fn),
    nest: (t, fn) => sequelize.transaction({ transaction: t }, fn),
    insert: (t, id) => query(t, `INSERT INTO ${T} VALUES ($1)`, [id]),
    isolation: async (t) => (await sequelize.query("SELECT current_setting('transaction_isolation') AS iso",
      { transaction: t, plain: true })).iso,
    fail: (t) => query(t, 'SELECT 1/0').catch(() => {}),
    // Sequelize's DatabaseError keeps the driver's as `parent`.
    driverError: (e) => e.parent,
    close: () => sequelize.close(),
  };
});
