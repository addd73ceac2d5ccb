'use strict';
// node-postgres-js -- postgres.js: sql.begin(), sql.savepoint() nested,
// tagged-template statements (parameters travel separately).
const { main, peer, accounts } = require('./common');

main('node-postgres-js', async (o) => {
  const postgres = peer('postgres');
  const sql = postgres({
    host: o.host, port: o.port, user: o.user, database: o.dbname, max: 1,
    onnotice: () => {},
  });
  return {
    shapes: {
      insert: (i) => sql.begin(async (s) => {
        await s`INSERT INTO bench_items (v) VALUES (${i})`;
      }),
      transfer(i) {
        const [from, to] = accounts(i);
        return sql.begin(async (s) => {
          await s`UPDATE bench_accounts SET b = b - ${1} WHERE id = ${from}`;
          await s`UPDATE bench_accounts SET b = b + ${1} WHERE id = ${to}`;
        });
      },
      nested: (i) => sql.begin(async (s) => {
        await s`INSERT INTO bench_items (v) VALUES (${i})`;
        await s.savepoint(async (s2) => {
          await s2`INSERT INTO bench_items (v) VALUES (${i})`;
        });
      }),
      empty: () => sql.begin(async () => {}),
      ten: (i) => sql.begin(async (s) => {
        for (let k = 0; k < 10; k++) await s`INSERT INTO bench_items (v) VALUES (${i})`;
      }),
      select: async (i) => (await sql`SELECT id, b FROM bench_accounts WHERE id = ${accounts(i)[0]}`)[0],
    },
    close: () => sql.end({ timeout: 1 }),
  };
});
