'use strict';
// The type table of API.md section 2.1, both directions.
const { pgatomic, openDb } = require('./helpers');

let db;
beforeAll(() => { db = openDb({ max: 2 }); });
afterAll(() => db.close());

const one = async (sql, params, d = db) => (await d.query(sql, params)).rows[0];

test('scalars_from_the_server', async () => {
  const r = await one(`SELECT 1::int2 AS i2, 2::int4 AS i4, 3::float4 AS f4, 2.5::float8 AS f8,
    12.50::numeric AS num, true AS b, 'x'::text AS t, 'v'::varchar AS vc, NULL::int AS n,
    '00000000-0000-0000-0000-000000000001'::uuid AS u, '12:34:56'::time AS tm,
    '1 day'::interval AS iv, 9007199254740993::int8 AS big`);
  expect(r).toEqual({
    i2: 1, i4: 2, f4: 3, f8: 2.5, num: '12.50', b: true, t: 'x', vc: 'v', n: null,
    u: '00000000-0000-0000-0000-000000000001', tm: '12:34:56', iv: '1 day',
    big: '9007199254740993',
  });
});

test('int8_follows_types_option', async () => {
  const b = openDb({ max: 1, types: { int8: 'bigint' } });
  const n = openDb({ max: 1, types: { int8: 'number' } });
  try {
    expect((await one('SELECT 9007199254740993::int8 AS v', [], b)).v).toBe(9007199254740993n);
    expect((await one('SELECT 42::int8 AS v', [], n)).v).toBe(42);
    expect((await one('SELECT ARRAY[1,2]::int8[] AS v', [], b)).v).toEqual([1n, 2n]);
  } finally {
    await b.close();
    await n.close();
  }
});

test('dates_and_timestamps', async () => {
  const r = await one(`SELECT '2024-02-29 12:34:56.789+00'::timestamptz AS tz,
    '2024-02-29 12:34:56.789'::timestamp AS ts, '2024-02-29'::date AS d,
    'infinity'::timestamptz AS inf`);
  expect(r.tz).toBeInstanceOf(Date);
  expect(r.tz.toISOString()).toBe('2024-02-29T12:34:56.789Z');
  expect(r.ts).toBeInstanceOf(Date);
  expect(r.ts.getTime()).toBe(new Date(2024, 1, 29, 12, 34, 56, 789).getTime());
  expect(r.d.getTime()).toBe(new Date(2024, 1, 29).getTime());
  expect(r.inf).toBe(Infinity);
});

test('json_bytea_and_arrays', async () => {
  const r = await one(`SELECT '{"a":[1,2,{"b":null}]}'::jsonb AS j, '[1,"x"]'::json AS j2,
    '\\x00ff10'::bytea AS by, ARRAY[[1,2],[3,NULL]]::int[] AS a2, ARRAY['a b','c,d','"q"'] AS ta,
    '{}'::int[] AS empty`);
  expect(r.j).toEqual({ a: [1, 2, { b: null }] });
  expect(r.j2).toEqual([1, 'x']);
  expect(Buffer.isBuffer(r.by)).toBe(true);
  expect([...r.by]).toEqual([0, 255, 16]);
  expect(r.a2).toEqual([[1, 2], [3, null]]);
  expect(r.ta).toEqual(['a b', 'c,d', '"q"']);
  expect(r.empty).toEqual([]);
});

test('parameters_round_trip', async () => {
  const when = new Date('2023-05-06T07:08:09.123Z');
  const r = await one(`SELECT $1::int AS n, $2::float8 AS f, $3::bool AS b, $4::text AS s,
      $5::bytea AS by, $6::timestamptz AS d, $7::jsonb AS j, $8::int[] AS a, $9::text AS nul,
      $10::numeric AS big, $11::int8 AS i8, $12::text[] AS sa, $13::jsonb[] AS ja`,
  [7, 1.5, false, 'héllo ✓', Buffer.from([1, 2, 3]), when, { k: 'v', n: [1] }, [1, null, 3],
    undefined, 123456789012345678901234567890n, 9007199254740993n, ['x', 'y'], [{ a: 1 }]]);
  expect(r.n).toBe(7);
  expect(r.f).toBe(1.5);
  expect(r.b).toBe(false);
  expect(r.s).toBe('héllo ✓');
  expect([...r.by]).toEqual([1, 2, 3]);
  expect(r.d.toISOString()).toBe(when.toISOString());
  expect(r.j).toEqual({ k: 'v', n: [1] });
  expect(r.a).toEqual([1, null, 3]);
  expect(r.nul).toBeNull();
  expect(r.big).toBe('123456789012345678901234567890');
  expect(r.i8).toBe('9007199254740993');
  expect(r.sa).toEqual(['x', 'y']);
  expect(r.ja).toEqual([{ a: 1 }]);
});

test('text_parameter_takes_its_type_from_context', async () => {
  const r = await one('SELECT $1::date + 1 AS d, $2 = 3 AS eq', ['2020-01-01', 3]);
  expect(r.d.getDate()).toBe(2);
  expect(r.eq).toBe(true);
});

test('result_shape', async () => {
  // One transaction: through a transaction-mode pooler each statement
  // outside one may run on another server session, without the temp table.
  const ins = await db.transaction(async (t) => {
    await t.query('CREATE TEMP TABLE types_tmp (a int) ON COMMIT DROP');
    return t.query('INSERT INTO types_tmp VALUES (1), (2)');
  });
  expect(ins.command).toBe('INSERT');
  expect(ins.rowCount).toBe(2);
  expect(ins.rows).toEqual([]);
  const sel = await db.query('SELECT a, a * 2 AS b FROM generate_series(1, 3) a');
  expect(sel.command).toBe('SELECT');
  expect(sel.rowCount).toBe(3);
  expect(sel.fields).toEqual([{ name: 'a', dataTypeID: 23 }, { name: 'b', dataTypeID: 23 }]);
  const multi = await db.query('SELECT 1 AS x; SELECT 2 AS y');  // simple protocol: last result
  expect(multi.rows.length).toBe(1);
});
