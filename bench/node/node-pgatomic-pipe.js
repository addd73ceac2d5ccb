'use strict';
// node-pgatomic-pipe -- node-pgatomic's shapes in pipelined transactions,
// db.transaction({ pipeline: true }, ...), the queries not awaited inside
// the block: COMMIT goes in the same flight, one round trip per
// transaction (docs/pipeline.md).
const path = require('path');
const {
  main, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

main('node-pgatomic-pipe', async (o) => {
  const pgatomic = require(path.join(__dirname, '..', '..'));
  const db = pgatomic.connect(o.conninfo, { max: 1 });
  const PIPE = { pipeline: true };
  return {
    shapes: {
      insert: (i) => db.transaction(PIPE, async (t) => {
        t.query(SQL_INSERT, [i]);
      }),
      transfer(i) {
        const [from, to] = accounts(i);
        return db.transaction(PIPE, async (t) => {
          t.query(SQL_DEBIT, [1, from]);
          t.query(SQL_CREDIT, [1, to]);
        });
      },
      nested: (i) => db.transaction(PIPE, async (t) => {
        t.query(SQL_INSERT, [i]);
        await db.transaction(async (t2) => {
          t2.query(SQL_INSERT, [i]);
        });
      }),
      empty: () => db.transaction(PIPE, async () => {}),
      ten: (i) => db.transaction(PIPE, async (t) => {
        for (let k = 0; k < 10; k++) t.query(SQL_INSERT, [i]);
      }),
      select: async (i) => (await db.query(SQL_SELECT, [accounts(i)[0]])).rows[0],
    },
    close: () => db.close(),
  };
});
