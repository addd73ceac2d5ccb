'use strict';
// No password in any error, inspected object, JSON or stack trace.
const util = require('util');
const { pgatomic } = require('./helpers');

const SECRET = 'hunter2secret';
const strings = [
  `postgresql://someone:${SECRET}@127.0.0.1:1/db?connect_timeout=2`,
  `host=/nonexistent-dir user=someone password=${SECRET}`,
  `postgresql://someone:${SECRET}@/db?host=/nonexistent-dir&bogus=1`,
];

test.each(strings)('password_never_shown: %#', async (connectionString) => {
  const db = pgatomic.connect(connectionString);
  let err;
  try {
    await db.query('SELECT 1');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(pgatomic.ConnectionError);
  const views = [String(err), err.stack, util.inspect(err, { depth: 6 }), JSON.stringify(err),
    util.inspect(db, { depth: 6 }), JSON.stringify(Object.keys(db))];
  for (const view of views) expect(view).not.toContain(SECRET);
  expect(db.connectionString).toContain(SECRET);   // still there for the pool
  await db.close();
});
