'use strict';
// Shared helpers for the jest suites: the server comes from PG* /
// DATABASE_URL, exported by the test command (scripts/pgtmp run).
const pgatomic = require('../../node');

function openDb(options) {
  return pgatomic.connect(undefined, { max: 5, ...options });
}

async function count(db, table, where = 'true', params = []) {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params,
    { transaction: null });
  return r.rows[0].n;
}

// Resolves after ms; used to let the loop run between steps.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { pgatomic, openDb, count, sleep };
