'use strict';
// node-knex -- knex.transaction(), nested trx.transaction() (a savepoint),
// raw SQL with knex's `?` placeholders.
const { main, peer, accounts } = require('./common');

const INSERT = 'INSERT INTO bench_items (v) VALUES (?)';
const DEBIT = 'UPDATE bench_accounts SET b = b - ? WHERE id = ?';
const CREDIT = 'UPDATE bench_accounts SET b = b + ? WHERE id = ?';
const SELECT = 'SELECT id, b FROM bench_accounts WHERE id = ?';

main('node-knex', async (o) => {
  const knex = peer('knex')({
    client: 'pg',
    connection: { host: o.host, port: o.port, user: o.user, database: o.dbname },
    pool: { min: 1, max: 1 },
  });
  return {
    shapes: {
      insert: (i) => knex.transaction(async (trx) => {
        await trx.raw(INSERT, [i]);
      }),
      transfer(i) {
        const [from, to] = accounts(i);
        return knex.transaction(async (trx) => {
          await trx.raw(DEBIT, [1, from]);
          await trx.raw(CREDIT, [1, to]);
        });
      },
      nested: (i) => knex.transaction(async (trx) => {
        await trx.raw(INSERT, [i]);
        await trx.transaction(async (trx2) => {
          await trx2.raw(INSERT, [i]);
        });
      }),
      empty: () => knex.transaction(async () => {}),
      ten: (i) => knex.transaction(async (trx) => {
        for (let k = 0; k < 10; k++) await trx.raw(INSERT, [i]);
      }),
      select: async (i) => (await knex.raw(SELECT, [accounts(i)[0]])).rows[0],
    },
    close: () => knex.destroy(),
  };
});
