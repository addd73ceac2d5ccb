'use strict';
// Issue 6's round-trip table counted on the wire by the proxy, not by the
// core's own counter: a regression in the plan fails here even if the
// counter were wrong too.
const { pgatomic, openDb, startProxy } = require('./helpers');

const T = 'wire_rt_items';
let db;
let proxy;
let pdb;   // through the proxy, one session

beforeAll(async () => {
  db = openDb({ max: 1 });
  await db.query(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, v text)`);
  proxy = await startProxy();
  pdb = pgatomic.connect(proxy.url, { max: 1 });
  await pdb.query('SELECT 1');   // the session exists before counting
});

afterAll(async () => {
  await pdb.close();
  await proxy.stop();
  await db.close();
});

beforeEach(async () => {
  await db.query(`TRUNCATE ${T}; INSERT INTO ${T} VALUES (1, ''), (2, '')`);
  await proxy.control('reset');
});

async function trips(body) {
  await proxy.control('reset');
  await body();
  return (await proxy.stats()).round_trips;
}

test('wire_insert_block_is_two_round_trips', async () => {
  expect(await trips(() => pdb.transaction(async () => {
    await pdb.query(`INSERT INTO ${T} VALUES ($1, 'a')`, [5]);
  }))).toBe(2);
});

test('wire_transfer_block_is_three_round_trips', async () => {
  expect(await trips(() => pdb.transaction(async () => {
    await pdb.query(`UPDATE ${T} SET v = v || 'x' WHERE id = $1`, [1]);
    await pdb.query(`UPDATE ${T} SET v = v || 'y' WHERE id = $1`, [2]);
  }))).toBe(3);
});

test('wire_nested_block_is_three_round_trips', async () => {
  expect(await trips(() => pdb.transaction(async () => {
    await pdb.query(`INSERT INTO ${T} VALUES ($1, 'a')`, [3]);
    await pdb.transaction(async () => {
      await pdb.query(`INSERT INTO ${T} VALUES ($1, 'b')`, [4]);
    });
  }))).toBe(3);
});

test('wire_empty_block_is_no_round_trip', async () => {
  expect(await trips(() => pdb.transaction(async () => {
    await pdb.transaction(async () => {});
  }))).toBe(0);
});
