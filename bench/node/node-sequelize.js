'use strict';
// node-sequelize -- sequelize.transaction() with raw sequelize.query() and
// bind parameters; the nested transaction is passed { transaction: t },
// which Sequelize turns into a savepoint.
const {
  main, peer, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

main('node-sequelize', async (o) => {
  const { Sequelize, QueryTypes } = peer('sequelize');
  const sequelize = new Sequelize(o.dbname, o.user, null, {
    host: o.host, port: o.port, dialect: 'postgres', logging: false,
    pool: { min: 1, max: 1 },
  });
  await sequelize.authenticate();
  const q = (sql, bind, transaction) => sequelize.query(sql, { bind, transaction });
  return {
    shapes: {
      insert: (i) => sequelize.transaction(async (t) => {
        await q(SQL_INSERT, [i], t);
      }),
      transfer(i) {
        const [from, to] = accounts(i);
        return sequelize.transaction(async (t) => {
          await q(SQL_DEBIT, [1, from], t);
          await q(SQL_CREDIT, [1, to], t);
        });
      },
      nested: (i) => sequelize.transaction(async (t) => {
        await q(SQL_INSERT, [i], t);
        await sequelize.transaction({ transaction: t }, async (t2) => {
          await q(SQL_INSERT, [i], t2);
        });
      }),
      empty: () => sequelize.transaction(async () => {}),
      ten: (i) => sequelize.transaction(async (t) => {
        for (let k = 0; k < 10; k++) await q(SQL_INSERT, [i], t);
      }),
      select: (i) => sequelize.query(SQL_SELECT, {
        bind: [accounts(i)[0]], type: QueryTypes.SELECT, plain: true,
      }),
    },
    close: () => sequelize.close(),
  };
});
