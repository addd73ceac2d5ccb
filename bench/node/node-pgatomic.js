'use strict';
// node-pgatomic -- pgatomic's Sequelize-style API: db.transaction(async t =>
// ...) with t.query(); the nested db.transaction() inside the callback is a
// savepoint of the ambient transaction.
const path = require('path');
const {
  main, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

main('node-pgatomic', async (o) => {
  const pgatomic = require(path.join(__dirname, '..', '..'));
  const db = pgatomic.connect(o.conninfo, { max: 1 });
  return {
    shapes: {
      insert: (i) => db.transaction(async (t) => {
        await t.query(SQL_INSERT, [i]);
      }),
      transfer(i) {
        const [from, to] = accounts(i);
        return db.transaction(async (t) => {
          await t.query(SQL_DEBIT, [1, from]);
          await t.query(SQL_CREDIT, [1, to]);
        });
      },
      nested: (i) => db.transaction(async (t) => {
        await t.query(SQL_INSERT, [i]);
        await db.transaction(async (t2) => {
          await t2.query(SQL_INSERT, [i]);
        });
      }),
      empty: () => db.transaction(async () => {}),
      ten: (i) => db.transaction(async (t) => {
        for (let k = 0; k < 10; k++) await t.query(SQL_INSERT, [i]);
      }),
      select: async (i) => (await db.query(SQL_SELECT, [accounts(i)[0]])).rows[0],
    },
    close: () => db.close(),
  };
});
