'use strict';
// node-pg -- node-postgres (`pg`) Client, transactions by hand as its
// documentation shows: BEGIN, statements, COMMIT; SAVEPOINT/RELEASE nested.
const {
  main, peer, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

// The shapes on a connected node-postgres Client (node-pg-native.js runs
// them on pg.native's Client).
function pgShapes(client) {
  return {
    shapes: {
      async insert(i) {
        await client.query('BEGIN');
        await client.query(SQL_INSERT, [i]);
        await client.query('COMMIT');
      },
      async transfer(i) {
        const [from, to] = accounts(i);
        await client.query('BEGIN');
        await client.query(SQL_DEBIT, [1, from]);
        await client.query(SQL_CREDIT, [1, to]);
        await client.query('COMMIT');
      },
      async nested(i) {
        await client.query('BEGIN');
        await client.query(SQL_INSERT, [i]);
        await client.query('SAVEPOINT s1');
        await client.query(SQL_INSERT, [i]);
        await client.query('RELEASE SAVEPOINT s1');
        await client.query('COMMIT');
      },
      async empty() {
        await client.query('BEGIN');
        await client.query('COMMIT');
      },
      async ten(i) {
        await client.query('BEGIN');
        for (let k = 0; k < 10; k++) await client.query(SQL_INSERT, [i]);
        await client.query('COMMIT');
      },
      async select(i) {
        const r = await client.query(SQL_SELECT, [accounts(i)[0]]);
        return r.rows[0];
      },
    },
    close: () => client.end(),
  };
}

async function connect(Client, o) {
  const client = new Client({ host: o.host, port: o.port, user: o.user, database: o.dbname });
  await client.connect();
  return pgShapes(client);
}

if (require.main === module) main('node-pg', (o) => connect(peer('pg').Client, o));

module.exports = { connect };
