'use strict';
// Parameters are stored as node-postgres (`pg`) stores them.  pg is the
// reference and runs beside pgatomic in every case: the same value written
// by each into the same column type leaves the same text in the table, or
// both fail with the same SQLSTATE.  Dates are checked in child processes
// whose TZ differs (zones x server TimeZones x column types); numbers,
// bigints, strings and arrays over every column type, as a table and as
// properties (fast-check).
const path = require('path');
const { execFile } = require('child_process');
const fc = require('fast-check');
const pg = require('pg');
const { openDb, propertyParams: params } = require('./helpers');

jest.setTimeout(120000);

const COLUMN_TYPES = ['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar',
  'bool', 'int4[]', 'int8[]', 'float8[]', 'numeric[]', 'text[]'];
// Columns only booleans and objects are written to (below).
const OTHER_TYPES = ['json', 'jsonb', 'bytea', 'bool[]', 'jsonb[]'];
const table = (type) => `vlp_${type.replace('[]', '_array')}`;

let db;
let client;
beforeAll(async () => {
  db = openDb({ max: 1 });
  client = new pg.Client();
  await client.connect();
  for (const type of [...COLUMN_TYPES, ...OTHER_TYPES]) {
    await db.query(`DROP TABLE IF EXISTS ${table(type)}`);
    await db.query(`CREATE TABLE ${table(type)} (who text, v ${type})`);
  }
  await db.query('DROP TABLE IF EXISTS vlp_dates');
  await db.query(`CREATE TABLE vlp_dates (who text, timestamp timestamp, timestamptz timestamptz,
    date date, text text, stamps timestamp[], stampstz timestamptz[])`);
});
afterAll(async () => {
  for (const type of [...COLUMN_TYPES, ...OTHER_TYPES]) await db.query(`DROP TABLE IF EXISTS ${table(type)}`);
  await db.query('DROP TABLE IF EXISTS vlp_dates');
  await client.end();
  await db.close();
});

// What one driver leaves in a column of the type: { text } or { code }.
async function stored(who, type, value) {
  const q = who === 'pg' ? (s, p) => client.query(s, p) : (s, p) => db.query(s, p);
  const t = table(type);
  await q(`DELETE FROM ${t} WHERE who = $1`, [who]);
  try {
    await q(`INSERT INTO ${t} (who, v) VALUES ($1, $2)`, [who, value]);
  } catch (err) {
    return { code: err.code };
  }
  const r = await q(`SELECT v::text AS t FROM ${t} WHERE who = $1`, [who]);
  return { text: r.rows[0].t };
}

async function expectLikePg(type, value) {
  const theirs = await stored('pg', type, value);
  const ours = await stored('ours', type, value);
  try {
    expect(ours).toEqual(theirs);
  } catch (e) {
    e.message = `${type} <- ${describe(value)}: ${e.message}`;
    throw e;
  }
}

function describe(v) {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
}

const NUMBERS = [0, -0, 1, -1, 5, 2.5, -0.5, 0.1, 1e-7, 5e-324, 32767, 32768, -32769, 2 ** 31 - 1,
  2 ** 31, 5e9, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, 1e20, 1e21, 1.7976931348623157e308, NaN,
  Infinity, -Infinity];
const BIGINTS = [0n, 5n, -5n, 2n ** 31n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), -(2n ** 63n) - 1n,
  10n ** 30n];

test('numbers_are_typed_the_same_whatever_their_value', async () => {
  for (const type of COLUMN_TYPES) {
    for (const n of NUMBERS) await expectLikePg(type, n);
  }
});

test('bigints_are_typed_the_same_whatever_their_value', async () => {
  for (const type of COLUMN_TYPES) {
    for (const n of BIGINTS) await expectLikePg(type, n);
  }
});

test('strings_take_the_column_type', async () => {
  for (const type of COLUMN_TYPES) {
    for (const s of ['5', '2.5', 'x', '', 'true', '{1,2}', '{"a b",NULL}', ' 7 ']) {
      await expectLikePg(type, s);
    }
  }
});

test('arrays_mixing_integers_and_fractions_take_the_column_type', async () => {
  const arrays = [[1, 2.5], [2.5, 1], [1, 2], [1, null, 3], [[1, 2], [3, 4.5]], [], [null],
    [5e9, 1], ['a', 'b'], ['1', 2], [1n, 2.5], [NaN, 1]];
  for (const type of COLUMN_TYPES) {
    for (const a of arrays) await expectLikePg(type, a);
  }
});

test('numbers_like_pg_property', async () => {
  const numbers = fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(),
    fc.double({ min: -1e6, max: 1e6 }));
  await fc.assert(fc.asyncProperty(numbers, fc.constantFrom(...COLUMN_TYPES),
    async (n, type) => { await expectLikePg(type, n); }), params);
});

test('arrays_of_numbers_like_pg_property', async () => {
  const arrays = fc.array(fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constant(null)),
    { maxLength: 6 });
  await fc.assert(fc.asyncProperty(arrays, fc.constantFrom('int4[]', 'int8[]', 'float8[]', 'numeric[]', 'text[]'),
    async (a, type) => { await expectLikePg(type, a); }), params);
});

// Dates: a child process per TZ, writing with both drivers under several
// server TimeZones (tests/node/fixtures/write-dates.js).
function writeDates(tz, dates) {
  const script = path.join(__dirname, 'fixtures', 'write-dates.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(dates.map((d) => d.getTime())), 'vlp_dates'],
      { env: { ...process.env, TZ: tz }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${tz}: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout));
      });
  });
}

const PROCESS_ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham',
  'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
const DATES = [
  '2024-03-10T06:59:59.999Z', '2024-03-10T07:00:00.000Z',   // New York springs forward
  '2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z',   // ... and repeats an hour
  '2024-04-06T15:30:00.000Z',                               // Lord Howe's half-hour change
  '2024-02-29T23:59:59.001Z', '1999-12-31T23:30:00.500Z', '1970-01-01T00:00:00.000Z',
  '1969-12-31T23:59:59.999Z', '1901-12-14T12:00:00.000Z', '2038-01-19T03:14:08.000Z',
].map((s) => new Date(s)).concat([
  new Date(Date.UTC(12345, 6, 1, 12)), withYear(99), withYear(1), withYear(0), withYear(-43),
]);
function withYear(y) {
  const d = new Date(Date.UTC(2000, 2, 15, 12, 0, 0));
  d.setUTCFullYear(y);
  return d;
}

test.each(PROCESS_ZONES)('dates_are_stored_as_pg_stores_them_in_process_zone_%s', async (tz) => {
  const cells = await writeDates(tz, DATES);
  expect(cells.length).toBe(DATES.length * 3 * 6);
  let compared = 0;
  for (const c of cells) {
    const where = `TZ=${tz} server=${c.zone} ${c.col} <- ${new Date(c.ms).toISOString()}`;
    if (c.secondsOffset && ['timestamptz', 'stampstz', 'text'].includes(c.col)) {
      // pg shifts these; see dates_with_a_seconds_offset_keep_their_instant.
      if (c.col !== 'text') {
        expect({ where, read: c.oursRead }).toEqual({ where, read: c.col === 'stampstz' ? [c.ms, c.ms] : c.ms });
      }
      continue;
    }
    expect({ where, stored: c.ours, read: c.oursRead }).toEqual({ where, stored: c.pg, read: c.pgRead });
    compared++;
  }
  expect(compared).toBeGreaterThan(DATES.length * 3 * 3);
});

// Before standard time, zones had offsets with seconds (Kolkata +05:21:10
// in 1900).  pg writes whole minutes and shifts the instant by those
// seconds; pgatomic keeps it exact, and stores the same wall-clock time in
// timestamp and date columns as pg.
test('dates_with_a_seconds_offset_keep_their_instant', async () => {
  const d = new Date('1900-01-01T00:00:00.000Z');
  const cells = await writeDates('Asia/Kolkata', [d]);
  for (const c of cells) {
    expect(c.secondsOffset).toBe(true);
    if (c.col === 'timestamptz') {
      expect(c.ours).toBe('1900-01-01 00:00:00+00');
      expect(c.oursRead).toBe(d.getTime());
      expect(c.pg).toBe('1900-01-01 00:00:10+00');
    } else if (c.col === 'text') {
      expect(c.ours).toBe('1900-01-01T05:21:10.000+05:21:10');
    } else if (c.col !== 'stampstz') {
      expect(c.ours).toBe(c.pg);
    }
  }
});

// Booleans and plain objects travel as pg sends them too: 'true'/'false'
// and JSON.stringify's text, untyped, so a json column keeps that very
// text (key order, spelling of numbers) and text, jsonb and bytea columns
// store what pg's would.
const OTHERS = [true, false, [true, false], [[true], [null]], {}, { a: 1 },
  { zeta: 1, alpha: { y: 2, x: 1 }, big: 1e21, tiny: 5e-324, s: 'é "q" \\ {,}' }, [{ b: 2, a: 1 }, null],
  { toJSON() { return { z: [1, 'x'] }; } }, [true, 1, 'x'], { nested: [[1, 2.5], { k: null }] }];

test('booleans_and_objects_are_stored_as_pg_stores_them', async () => {
  for (const type of [...COLUMN_TYPES, ...OTHER_TYPES]) {
    for (const v of OTHERS) await expectLikePg(type, v);
  }
});
