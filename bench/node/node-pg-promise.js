'use strict';
// node-pg-promise -- pg-promise's db.tx(), nested t.tx() (a savepoint).
const {
  main, peer, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

main('node-pg-promise', async (o) => {
  const pgp = peer('pg-promise')();
  const db = pgp({ host: o.host, port: o.port, user: o.user, database: o.dbname, max: 1 });
  return {
    shapes: {
      insert: (i) => db.tx((t) => t.none(SQL_INSERT, [i])),
      transfer(i) {
        const [from, to] = accounts(i);
        return db.tx(async (t) => {
          await t.none(SQL_DEBIT, [1, from]);
          await t.none(SQL_CREDIT, [1, to]);
        });
      },
      nested: (i) => db.tx(async (t) => {
        await t.none(SQL_INSERT, [i]);
        await t.tx((t2) => t2.none(SQL_INSERT, [i]));
      }),
      empty: () => db.tx(async () => {}),
      ten: (i) => db.tx(async (t) => {
        for (let k = 0; k < 10; k++) await t.none(SQL_INSERT, [i]);
      }),
      select: (i) => db.oneOrNone(SQL_SELECT, [accounts(i)[0]]),
    },
    close: async () => pgp.end(),
  };
});
