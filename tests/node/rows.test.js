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
