'use strict';
// pg-cursor and pg-query-stream, unmodified, on pgatomic/pg's Client: the
// behaviours their documentation promises (node-postgres.com/apis/cursor,
// pg-query-stream's README): rows read a chunk at a time, an empty read
// after the end, close early then go on, rowMode and types, 'row' and
// 'end' events, errors, a stream piped with back-pressure, inside a
// transaction.  Beneath them the statement is streamed by the core, so a
// cursor nobody reads stops the server (checked from pg_stat_activity).
const { pipeline, Writable, Transform } = require('stream');
const { promisify } = require('util');
const Cursor = require('pg-cursor');
const QueryStream = require('pg-query-stream');
const pg = require('../../node/pg');
const { serverWaitsToWrite } = require('./helpers');

const pipe = promisify(pipeline);

let pool;
beforeAll(async () => {
  pool = new pg.Pool({ max: 3 });
  await pool.query('CREATE TABLE IF NOT EXISTS pgs_items (id int PRIMARY KEY)');
});
afterAll(async () => {
  await pool.query('DROP TABLE IF EXISTS pgs_items');
  await pool.end();
});
beforeEach(() => pool.query('TRUNCATE pgs_items'));

const waitsToWrite = (marker) => serverWaitsToWrite((q, p) => pool.query(q, p), marker);

test('pg_cursor_reads_rows_a_chunk_at_a_time_then_empty_reads', async () => {
  const client = await pool.connect();
  try {
    const cursor = client.query(new Cursor('SELECT g AS num FROM generate_series(1, $1::int) g', [2500]));
    const got = [];
    for (;;) {
      const rows = await cursor.read(1000);
      if (rows.length === 0) break;
      expect(rows.length).toBe(got.length < 2000 ? 1000 : 500);
      got.push(...rows.map((r) => r.num));
    }
    expect(got).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    // Read to the end: every later read is an empty array.
    expect(await cursor.read(10)).toEqual([]);
    expect(await cursor.read(10)).toEqual([]);
    await cursor.close();
    expect((await client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  } finally {
    client.release();
  }
});

test('pg_cursor_callback_style_close_early_and_queued_queries', async () => {
  const client = await pool.connect();
  try {
    const cursor = client.query(new Cursor('SELECT g AS num FROM generate_series(0, 50) g'));
    // Issued while the cursor is open: it runs once the cursor is closed.
    const later = client.query('SELECT now() IS NOT NULL AS ok');
    const { rows, result } = await new Promise((resolve, reject) => cursor.read(25, (err, r, res) => (
      err ? reject(err) : resolve({ rows: r, result: res }))));
    expect(rows.map((r) => r.num)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(result.fields.map((f) => f.name)).toEqual(['num']);
    await new Promise((resolve, reject) => cursor.close((err) => (err ? reject(err) : resolve())));
    expect((await later).rows).toEqual([{ ok: true }]);
    // Closing again, or reading a closed cursor, is harmless.
    await cursor.close();
    expect(await cursor.read(5)).toEqual([]);
  } finally {
    client.release();
  }
});

test('pg_cursor_row_mode_types_and_events', async () => {
  const client = await pool.connect();
  try {
    const arr = client.query(new Cursor('SELECT g, g::text AS t FROM generate_series(1, 3) g', [], { rowMode: 'array' }));
    expect(await arr.read(5)).toEqual([[1, '1'], [2, '2'], [3, '3']]);
    await arr.close();
    const types = { getTypeParser: () => (v) => `<${v}>` };
    const typed = client.query(new Cursor('SELECT 7 AS v', [], { types }));
    const seen = [];
    typed.on('row', (row) => seen.push(row));
    const ended = new Promise((resolve) => typed.on('end', resolve));
    expect(await typed.read(10)).toEqual([{ v: '<7>' }]);
    expect(seen).toEqual([{ v: '<7>' }]);
    const result = await ended;
    expect([result.command, result.rowCount]).toEqual(['SELECT', 1]);
  } finally {
    client.release();
  }
});

test('pg_cursor_error_part_way_rejects_reads_and_leaves_the_client_usable', async () => {
  const client = await pool.connect();
  try {
    const cursor = client.query(new Cursor(
      'SELECT CASE WHEN g = 3000 THEN 1 / (g - g) ELSE g END AS v FROM generate_series(1, 5000) g'));
    let err;
    let read = 0;
    try {
      for (;;) {
        const rows = await cursor.read(500);
        if (rows.length === 0) break;
        read += rows.length;
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(pg.DatabaseError);
    expect(err.code).toBe('22012');
    expect(read).toBeLessThan(3000);
    await expect(cursor.read(1)).rejects.toBe(err);
    await cursor.close();
    expect((await client.query('SELECT 2 AS ok')).rows).toEqual([{ ok: 2 }]);
  } finally {
    client.release();
  }
});

test('pg_cursor_inside_a_transaction', async () => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('INSERT INTO pgs_items SELECT g FROM generate_series(1, 1500) g');
    const cursor = client.query(new Cursor('SELECT id FROM pgs_items ORDER BY id'));
    expect((await cursor.read(1000)).length).toBe(1000);
    // Closed early: the rest is read and dropped, the transaction stays
    // healthy and commits.
    await cursor.close();
    await client.query('INSERT INTO pgs_items VALUES (0)');
    await client.query('COMMIT');
    expect((await client.query('SELECT count(*)::int AS n FROM pgs_items')).rows[0].n).toBe(1501);
    // A cursor failing inside a transaction aborts it, as in pg.
    await client.query('BEGIN');
    const bad = client.query(new Cursor('SELECT 1 / 0'));
    await expect(bad.read(1)).rejects.toMatchObject({ code: '22012' });
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});

test('pg_cursor_unread_stops_the_server', async () => {
  const client = await pool.connect();
  const marker = `pgs_cursor_${process.pid}_${Date.now()}`;
  try {
    const cursor = client.query(new Cursor(
      `SELECT g, repeat('y', 200) AS pad, '${marker}' AS m FROM generate_series(1, 300000) g`));
    expect((await cursor.read(10)).length).toBe(10);
    expect(await waitsToWrite(marker)).toBe(true);
    await cursor.close();
    expect((await client.query('SELECT 3 AS ok')).rows).toEqual([{ ok: 3 }]);
  } finally {
    client.release();
  }
});

test('pg_query_stream_pipes_every_row', async () => {
  const client = await pool.connect();
  try {
    const stream = client.query(new QueryStream('SELECT * FROM generate_series(0, $1) num', [100000]));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    let n = 0;
    let sum = 0;
    await pipe(stream, new Writable({
      objectMode: true,
      write(row, _enc, cb) {
        n++;
        sum += row.num;
        cb();
      },
    }));
    await ended;
    expect([n, sum]).toEqual([100001, 5000050000]);
    expect((await client.query('SELECT 4 AS ok')).rows).toEqual([{ ok: 4 }]);
  } finally {
    client.release();
  }
});

test('pg_query_stream_back_pressure_stops_the_server', async () => {
  const client = await pool.connect();
  const marker = `pgs_stream_${process.pid}_${Date.now()}`;
  try {
    const stream = client.query(new QueryStream(
      `SELECT g, repeat('z', 200) AS pad, '${marker}' AS m FROM generate_series(1, 200000) g`, [],
      { batchSize: 100 }));
    let n = 0;
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const done = pipe(stream, new Transform({
      objectMode: true,
      highWaterMark: 1,
      transform(row, _enc, cb) {
        n++;
        // The first rows pass; then the consumer stalls until released.
        if (n === 50) gate.then(() => cb(null, row.g)); else cb(null, row.g);
      },
    }), new Writable({ objectMode: true, highWaterMark: 1, write(_g, _enc, cb) { cb(); } }));
    expect(await waitsToWrite(marker)).toBe(true);
    expect(n).toBeLessThan(10000);
    release();
    await done;
    expect(n).toBe(200000);
  } finally {
    client.release();
  }
});

test('pg_query_stream_destroyed_early_and_failing', async () => {
  const client = await pool.connect();
  try {
    const stream = client.query(new QueryStream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 10 }));
    const got = [];
    for await (const row of stream) {
      got.push(row.g);
      if (row.g === 25) break;
    }
    expect(got.length).toBe(25);
    expect((await client.query('SELECT 5 AS ok')).rows).toEqual([{ ok: 5 }]);
    const failing = client.query(new QueryStream(
      'SELECT CASE WHEN g = 500 THEN 1 / (g - g) ELSE g END AS v FROM generate_series(1, 1000) g', [], { batchSize: 100 }));
    const err = await new Promise((resolve) => failing.on('error', resolve).resume());
    expect(err.code).toBe('22012');
    expect((await client.query('SELECT 6 AS ok')).rows).toEqual([{ ok: 6 }]);
    const arrays = client.query(new QueryStream('SELECT 1 AS a, 2 AS b', [], { rowMode: 'array' }));
    const rows = [];
    for await (const row of arrays) rows.push(row);
    expect(rows).toEqual([[1, 2]]);
  } finally {
    client.release();
  }
});
