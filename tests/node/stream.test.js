'use strict';
// db.stream() / t.stream(): a statement's rows as an async iterator, read
// from the server a batch at a time as the loop consumes them (node/lib/
// stream.js, the core's pga_stream_*).  Memory and speed are the bench's
// (bench/node/loop-delay.js); here: every row in order and decoded as
// db.query() decodes it, inside and outside transactions, errors part-way,
// leaving early, back-pressure seen from the server, misuse refused.
const { openDb, sleep, pgatomic, serverWaitsToWrite } = require('./helpers');

const { TransactionError, DatabaseError } = pgatomic;

const ROWS = `SELECT g AS id, 'n' || g AS name, g * 0.5::float8 AS half, ARRAY[g, -g] AS pair,
  DATE '2024-01-01' + g AS day FROM generate_series(1, $1::int) g`;

let db;
beforeAll(async () => {
  db = openDb({ max: 2 });
  await db.query('CREATE TABLE IF NOT EXISTS stream_items (id int PRIMARY KEY, v text)');
});
afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS stream_items');
  await db.close();
});
beforeEach(() => db.query('TRUNCATE stream_items'));

async function collect(iterable) {
  const out = [];
  for await (const row of iterable) out.push(row);
  return out;
}

test('stream_yields_every_row_in_order_decoded_as_query', async () => {
  const n = 25000;
  const whole = await db.query(ROWS, [n]);
  const s = db.stream(ROWS, [n], { batchSize: 999 });
  const rows = await collect(s);
  expect(rows).toHaveLength(n);
  expect(rows).toEqual(whole.rows);
  expect(s.fields.map((f) => f.name)).toEqual(['id', 'name', 'half', 'pair', 'day']);
  expect(s.command).toBe('SELECT');
  expect(s.rowCount).toBe(n);
});

test('stream_of_an_empty_result_and_of_dml', async () => {
  const none = db.stream('SELECT g FROM generate_series(1, 0) g');
  expect(await collect(none)).toEqual([]);
  expect(none.rowCount).toBe(0);
  expect(none.fields.map((f) => f.name)).toEqual(['g']);
  const ins = db.stream('INSERT INTO stream_items SELECT g, g::text FROM generate_series(1, 5) g RETURNING id');
  expect((await collect(ins)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  expect([ins.command, ins.rowCount]).toEqual(['INSERT', 5]);
  const upd = db.stream('UPDATE stream_items SET v = v || $1', ['!']);
  expect(await collect(upd)).toEqual([]);
  expect([upd.command, upd.rowCount]).toEqual(['UPDATE', 5]);
  expect((await db.query("SELECT count(*)::int AS n FROM stream_items WHERE v LIKE '%!'")).rows[0].n).toBe(5);
});

test('stream_inside_a_transaction_sees_its_writes_and_commits', async () => {
  await db.transaction(async (t) => {
    await t.query('INSERT INTO stream_items SELECT g, $1 FROM generate_series(1, 3000) g', ['x']);
    // The ambient transaction, as db.query follows it.
    let sum = 0;
    for await (const row of db.stream('SELECT id FROM stream_items ORDER BY id', [], { batchSize: 128 })) {
      sum += row.id;
    }
    expect(sum).toBe((3000 * 3001) / 2);
    expect((await collect(t.stream('SELECT count(*)::int AS n FROM stream_items')))[0].n).toBe(3000);
    await t.query('INSERT INTO stream_items VALUES (-1, $1)', ['after']);
  });
  expect((await db.query('SELECT count(*)::int AS n FROM stream_items')).rows[0].n).toBe(3001);
});

test('stream_failing_part_way_rejects_after_its_rows_and_rolls_the_block_back', async () => {
  const failing = 'SELECT CASE WHEN g = 2500 THEN 1 / (g - g) ELSE g END AS v FROM generate_series(1, 5000) g';
  // Outside a transaction: the rows before the error, then the error; the
  // pool's sessions stay usable.
  const seen = [];
  const err = await (async () => {
    for await (const row of db.stream(failing, [], { batchSize: 100 })) seen.push(row.v);
  })().catch((e) => e);
  expect(err).toBeInstanceOf(DatabaseError);
  expect(err.code).toBe('22012');
  expect(seen.length).toBeLessThan(2500);
  expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
  expect((await Promise.all([db.query('SELECT 1 AS ok'), db.query('SELECT 2 AS ok')])).map((r) => r.rows[0].ok)).toEqual([1, 2]);
  // Inside a managed transaction: the iteration's error ends the callback,
  // and the block's earlier write is rolled back.
  const inTxn = await db.transaction(async (t) => {
    await t.query('INSERT INTO stream_items VALUES (1, $1)', ['lost']);
    for await (const row of t.stream(failing, [], { batchSize: 100 })) void row;
  }).catch((e) => e);
  expect(inTxn.code).toBe('22012');
  expect((await db.query('SELECT count(*)::int AS n FROM stream_items')).rows[0].n).toBe(0);
});

test('stream_left_early_leaves_its_session_usable', async () => {
  const one = openDb({ max: 1 });
  try {
    let k = 0;
    for await (const row of one.stream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 500 })) {
      k = row.g;
      if (k === 10) break;
    }
    expect(k).toBe(10);
    // The only session: free again, outside any transaction.
    expect((await one.query('SELECT 7 AS v')).rows).toEqual([{ v: 7 }]);
    expect(one.poolStats()).toMatchObject({ total: 1, idle: 1 });
    // Inside a transaction: leaving early keeps the block healthy (the rest
    // is read and dropped, never cancelled), so it commits.
    await one.transaction(async (t) => {
      await t.query('INSERT INTO stream_items VALUES (1, $1)', ['kept']);
      for await (const row of t.stream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 100 })) {
        if (row.g === 3) break;
      }
      // A throw inside the loop also ends the stream; the block then rolls
      // back because the callback failed, not because of the stream.
      await t.query('INSERT INTO stream_items VALUES (2, $1)', ['kept too']);
    });
    expect((await one.query('SELECT count(*)::int AS n FROM stream_items')).rows[0].n).toBe(2);
    const thrown = await one.transaction(async (t) => {
      await t.query('INSERT INTO stream_items VALUES (3, $1)', ['gone']);
      for await (const row of t.stream('SELECT g FROM generate_series(1, 100000) g')) {
        if (row.g === 5) throw new Error('consumer gave up');
      }
    }).catch((e) => e);
    expect(thrown.message).toBe('consumer gave up');
    expect((await one.query('SELECT count(*)::int AS n FROM stream_items')).rows[0].n).toBe(2);
  } finally {
    await one.close();
  }
});

test('stream_stops_reading_while_the_consumer_is_slow', async () => {
  // A result far bigger than the socket buffers: while the loop holds one
  // row, the server's backend waits to write (ClientWrite), which it can
  // only do if the client stopped reading.
  const marker = `stream_backpressure_${process.pid}_${Date.now()}`;
  const it = db.stream(`SELECT g, repeat('x', 200) AS pad, '${marker}' AS m FROM generate_series(1, 300000) g`,
    [], { batchSize: 1000 })[Symbol.asyncIterator]();
  const first = await it.next();
  expect(first.value.g).toBe(1);
  const seen = await serverWaitsToWrite((q, p) => db.query(q, p), marker);
  expect(seen).toBe(true);
  await it.return();
});

test('stream_refuses_its_transactions_other_work_while_open', async () => {
  await db.transaction(async (t) => {
    const it = t.stream('SELECT g FROM generate_series(1, 10000) g')[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ g: 1 });
    // A statement of its own transaction would wait behind rows nobody reads.
    await expect(t.query('SELECT 1')).rejects.toThrow(TransactionError);
    await expect(t.query('SELECT 1')).rejects.toThrow(/stream of it is open/);
    await expect(db.transaction(() => 1)).rejects.toThrow(/stream of it is open/);
    const second = await collect(t.stream('SELECT 1')).catch((e) => e);
    expect(second).toBeInstanceOf(TransactionError);
    await it.return();
    expect((await t.query('SELECT 2 AS v')).rows).toEqual([{ v: 2 }]);
  });
});

test('stream_left_unread_is_closed_when_its_transaction_ends', async () => {
  let it;
  await db.transaction(async (t) => {
    await t.query('INSERT INTO stream_items VALUES (1, $1)', ['committed']);
    it = t.stream('SELECT g FROM generate_series(1, 50000) g', [], { batchSize: 100 })[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ g: 1 });
  });
  expect((await db.query('SELECT v FROM stream_items')).rows).toEqual([{ v: 'committed' }]);
  // Its reader learns why it ended, once the rows it had are gone.
  let err;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
    }
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TransactionError);
  expect(err.message).toMatch(/closed unread/);
});

test('streams_on_two_sessions_interleave_and_a_query_waits_for_a_free_one', async () => {
  const two = openDb({ max: 2 });
  try {
    const a = two.stream('SELECT g FROM generate_series(1, 3000) g', [], { batchSize: 100 })[Symbol.asyncIterator]();
    const b = two.stream('SELECT -g AS g FROM generate_series(1, 3000) g', [], { batchSize: 100 })[Symbol.asyncIterator]();
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < 3000; i++) {
      sa += (await a.next()).value.g;
      sb += (await b.next()).value.g;
    }
    expect([sa, sb]).toEqual([4501500, -4501500]);
    // Both sessions held by the streams until they end: a query waits.
    let answered = false;
    const q = two.query('SELECT 1 AS v').then((r) => { answered = true; return r; });
    await sleep(100);
    expect(answered).toBe(false);
    expect((await a.next()).done).toBe(true);
    expect((await q).rows).toEqual([{ v: 1 }]);
    expect((await b.next()).done).toBe(true);
  } finally {
    await two.close();
  }
});

test('stream_arguments_are_checked', () => {
  expect(() => db.stream(42)).toThrow(TypeError);
  expect(() => db.stream('SELECT 1', 'x')).toThrow(TypeError);
  expect(() => db.stream('SELECT 1', [], { batchsize: 10 })).toThrow(/Unknown stream option 'batchsize'/);
  expect(() => db.stream('SELECT 1', [], { batchSize: 0 })).toThrow(/batchSize/);
  expect(() => db.stream('SELECT 1', [], { transaction: {} })).toThrow(/Transaction/);
});

test('stream_refuses_what_cannot_stream', async () => {
  // A script of several statements, or a control statement, runs through
  // db.query(); the core refuses it before anything is sent.
  await expect(collect(db.stream('SELECT 1; SELECT 2'))).rejects.toThrow();
  await expect(collect(db.stream('SELECT $1::int', [1, 2]))).rejects.toThrow(/parameter/);
  expect((await db.query('SELECT 3 AS v')).rows).toEqual([{ v: 3 }]);
});

test('stream_on_a_closed_database_is_refused_and_close_ends_an_open_one', async () => {
  const own = openDb({ max: 1 });
  const it = own.stream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 100 })[Symbol.asyncIterator]();
  expect((await it.next()).value).toEqual({ g: 1 });
  await own.close();
  let err;
  try {
    for (;;) if ((await it.next()).done) break;
  } catch (e) {
    err = e;
  }
  expect(err && err.message).toMatch(/Database is closed/);
  await expect(collect(own.stream('SELECT 1'))).rejects.toThrow(/Database is closed/);
});

test('stream_in_a_pipelined_transaction_is_refused', async () => {
  // A pipelined block reads its results at its end; a stream reads as it
  // goes, so the core refuses it there and the block stays usable.
  const out = await db.transaction({ pipeline: true }, async (t) => {
    const err = await collect(t.stream('SELECT 1')).catch((e) => e);
    expect(err).toBeInstanceOf(TransactionError);
    expect(err.message).toMatch(/pipelined/);
    return (await t.query('SELECT 2 AS v')).rows;
  });
  expect(out).toEqual([{ v: 2 }]);
});

test('stream_next_called_without_waiting_answers_in_order', async () => {
  const it = db.stream('SELECT g FROM generate_series(1, 25) g', [], { batchSize: 10 })[Symbol.asyncIterator]();
  const all = await Promise.all(Array.from({ length: 27 }, () => it.next()));
  expect(all.slice(0, 25).map((r) => r.value.g)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  expect(all.slice(25)).toEqual([{ value: undefined, done: true }, { value: undefined, done: true }]);
});
