'use strict';
// Rows are plain objects whose keys are the column names, whatever those
// names are: __proto__, constructor and the other special keys of JS are
// ordinary own data properties, never a prototype or a method.
const fc = require('fast-check');
const { useDatabase } = require('../../jest');
const { propertyParams: params } = require('./helpers');
const { parse } = require('../../node/lib/conninfo');


// A database of this file's own; each test in a transaction rolled back.
const db = useDatabase();

// The addon makes rows in the realm that loaded it, which under jest is not
// the test file's own: compare with that realm's Object.prototype.
const isPlainObject = (o) => {
  const proto = Object.getPrototypeOf(o);
  return proto !== null && Object.getPrototypeOf(proto) === null &&
    Object.getOwnPropertyNames(proto).includes('isPrototypeOf');
};
const quoteIdent = (s) => `"${s.replace(/"/g, '""')}"`;
const SPECIAL = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf',
  '__defineGetter__', '__lookupSetter__', 'isPrototypeOf', 'toJSON', 'then', 'length', '0', '-1',
  '4294967295', 'NaN'];

test('special_keys_are_ordinary_columns', async () => {
  for (const name of SPECIAL) {
    const { rows, fields } = await db.query(`SELECT 42 AS ${quoteIdent(name)}, 'x' AS other`);
    const row = rows[0];
    expect(isPlainObject(row)).toBe(true);
    expect(Object.getOwnPropertyDescriptor(row, name)).toEqual(
      { value: 42, writable: true, enumerable: true, configurable: true });
    expect(Object.keys(row).sort()).toEqual([name, 'other'].sort());
    expect(fields.map((f) => f.name)).toEqual([name, 'other']);
    expect(Object.getOwnPropertyDescriptor(JSON.parse(JSON.stringify(row)), name).value).toBe(42);
  }
});

test('a___proto___column_holding_an_object_is_data', async () => {
  const { rows } = await db.query(`SELECT '{"polluted": true}'::jsonb AS "__proto__"`);
  expect(rows[0].polluted).toBeUndefined();
  expect(rows[0].__proto__).toEqual({ polluted: true });  // eslint-disable-line no-proto
  expect({}.polluted).toBeUndefined();
});

test('duplicate_column_names_keep_the_last_value_like_pg', async () => {
  const { rows } = await db.query('SELECT 1 AS a, 2 AS a');
  expect(rows[0]).toEqual({ a: 2 });
});

test('any_column_name_round_trips_property', async () => {
  const names = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\u0000'));
  await fc.assert(fc.asyncProperty(names, async (name) => {
    const { rows } = await db.query(`SELECT 7 AS ${quoteIdent(name)}`);
    const key = Object.keys(rows[0]);
    expect(key).toHaveLength(1);
    expect(Object.getOwnPropertyDescriptor(rows[0], key[0]).value).toBe(7);
    expect(isPlainObject(rows[0])).toBe(true);
  }), params);
});

// pgatomic/pg makes its rows in JavaScript (node/lib/pg/result.js): the
// same names are data there too, each row the same own keys and values as
// the stock pg's row for the same query.
test('special_keys_are_ordinary_columns_in_pgatomic_pg', async () => {
  const k = parse(db.url);
  const config = { host: k.host, port: k.port && Number(k.port), user: k.user, database: k.dbname };
  const ours = new (require('../../node/pg').Client)(config);
  const theirs = new (require('pg').Client)(config);
  await ours.connect();
  await theirs.connect();
  try {
    for (const name of SPECIAL) {
      for (const value of ['42', `'{"polluted": true}'::jsonb`]) {
        const sql = `SELECT ${value} AS ${quoteIdent(name)}, 'x' AS other`;
        const [a, b] = [(await ours.query(sql)).rows[0], (await theirs.query(sql)).rows[0]];
        expect({ name, entries: Object.entries(a) }).toEqual({ name, entries: Object.entries(b) });
        expect(isPlainObject(a)).toBe(true);
        expect(Object.getOwnPropertyDescriptor(a, name).enumerable).toBe(true);
        expect(a.polluted).toBeUndefined();
      }
    }
  } finally {
    await ours.end();
    await theirs.end();
  }
});

// The addon hands a result's cells to JS a slice of 256 rows at a time,
// numbers, booleans and timestamptz instants apart from the other values
// (convert.cc, native.js rowFiller): every kind, NULL in each, across slice
// boundaries, from db.query and from db.stream alike.
test('cells_of_every_kind_keep_their_values_across_slices', async () => {
  const n = 700;
  const sql = `SELECT g AS i,
      CASE WHEN g % 3 = 0 THEN NULL WHEN g % 10 = 1 THEN 'NaN' ELSE g * -0.5::float8 END AS f,
      CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END AS b,
      CASE WHEN g % 7 = 0 THEN NULL WHEN g % 13 = 0 THEN 'infinity'::timestamptz
           WHEN g % 17 = 0 THEN '-infinity'::timestamptz
           ELSE 'epoch'::timestamptz + g * interval '1.5 ms' END AS t,
      CASE WHEN g % 4 = 0 THEN NULL ELSE 'v' || g END AS s,
      CASE WHEN g % 6 = 0 THEN NULL ELSE ARRAY[g, -g] END AS a,
      g::int8 * 1000000000000 AS big, 1 AS dup, g AS dup
    FROM generate_series(1, ${n}) g`;
  const expected = (g) => ({
    i: g,
    f: g % 3 === 0 ? null : g % 10 === 1 ? NaN : g * -0.5,
    b: g % 5 === 0 ? null : g % 2 === 0,
    t: g % 7 === 0 ? null : g % 13 === 0 ? Infinity : g % 17 === 0 ? -Infinity
      : new Date(Math.floor(g * 1.5)),
    s: g % 4 === 0 ? null : `v${g}`,
    a: g % 6 === 0 ? null : [g, -g],
    big: String(BigInt(g) * 1000000000000n),
    dup: g,
  });
  const check = (rows) => {
    expect(rows).toHaveLength(n);
    rows.forEach((row, k) => {
      expect(Object.keys(row)).toEqual(['i', 'f', 'b', 't', 's', 'a', 'big', 'dup']);
      expect(row).toEqual(expected(k + 1));
      if (row.t !== null && Number.isFinite(row.t.getTime?.())) {
        expect(Object.prototype.toString.call(row.t)).toBe('[object Date]');
      }
    });
  };
  check((await db.query(sql)).rows);
  const streamed = [];
  for await (const row of db.stream(sql, [], { batchSize: 300 })) streamed.push(row);
  check(streamed);
});

test('rows_without_columns_are_empty_objects', async () => {
  const { rows, fields } = await db.query('SELECT FROM generate_series(1, 300)');
  expect(fields).toEqual([]);
  expect(rows).toHaveLength(300);
  for (const row of rows) {
    expect(isPlainObject(row)).toBe(true);
    expect(Reflect.ownKeys(row)).toEqual([]);
  }
});
