'use strict';
// A large result is turned into rows a slice at a time, with the event loop
// running between slices (bindings/node/settle.cc).  These tests check what
// that must not change: every row, in order, for single statements and
// batches, in the caller's async context.  How long the loop is held is measured by the bench
// (bench/node/loop-delay.js), never here.
const { AsyncLocalStorage } = require('async_hooks');
const { openDb } = require('./helpers');

const N = 200000;
const SQL = `SELECT g AS id, 'n' || g AS name, g * 0.5::float8 AS half, ARRAY[g, -g] AS pair,
  CASE WHEN g % 7 = 0 THEN NULL ELSE '{"k": 1}'::jsonb END AS doc FROM generate_series(1, $1::int) g`;

let db;
beforeAll(() => { db = openDb({ max: 2 }); });
afterAll(() => db.close());

function checkRows(rows, n) {
  expect(rows).toHaveLength(n);
  for (let i = 0; i < n; i += 997) {
    const g = i + 1;
    expect(rows[i]).toEqual({ id: g, name: `n${g}`, half: g * 0.5, pair: [g, -g], doc: g % 7 === 0 ? null : { k: 1 } });
  }
  expect(rows[n - 1].id).toBe(n);
}

test('large_result_arrives_whole_and_in_order_while_the_loop_turns', async () => {
  let turns = 0;
  let spinning = true;
  const spin = () => { turns++; if (spinning) setImmediate(spin); };
  setImmediate(spin);
  const r = await db.query(SQL, [N]);
  spinning = false;
  checkRows(r.rows, N);
  expect(r.rowCount).toBe(N);
  expect(r.fields.map((f) => f.name)).toEqual(['id', 'name', 'half', 'pair', 'doc']);
  // The loop kept turning during the query; how long any one turn was held
  // is the bench's measure.
  expect(turns).toBeGreaterThan(1);
});

test('large_results_in_one_batch_each_arrive_whole', async () => {
  const [a, small, b] = await db.transaction(async (t) => Promise.all([
    t.query(SQL, [N]), t.query('SELECT 1 AS one'), t.query(SQL, [N / 2]),
  ]));
  checkRows(a.rows, N);
  expect(small.rows).toEqual([{ one: 1 }]);
  checkRows(b.rows, N / 2);
});

test('large_result_resolves_in_the_callers_async_context', async () => {
  const als = new AsyncLocalStorage();
  const seen = await Promise.all(['a', 'b'].map((tag) => als.run(tag, async () => {
    await db.query(SQL, [N / 4]);
    return als.getStore();
  })));
  expect(seen).toEqual(['a', 'b']);
});

test('close_waits_for_a_result_being_decoded', async () => {
  const own = openDb({ max: 1 });
  const q = own.query(SQL, [N]);
  const closed = own.close();
  checkRows((await q).rows, N);
  await closed;
});
