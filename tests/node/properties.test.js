'use strict';
// Property tests of value round trips (fast-check): each generated value
// either comes back equal or is refused with a clear error (TypeError before
// sending, DatabaseError from the server); nothing crashes.
// PGA_PROP_RUNS (default 100) and PGA_PROP_SEED reproduce or lengthen a run.
const fc = require('fast-check');
const { pgatomic, openDb, propertyParams: params } = require('./helpers');

jest.setTimeout(60000);

let db;
let dbBig;
beforeAll(() => {
  db = openDb({ max: 1 });
  dbBig = openDb({ max: 1, types: { int8: 'bigint' } });
});
afterAll(async () => {
  await db.close();
  await dbBig.close();
});

const one = async (sql, value, d = db) => (await d.query(sql, [value])).rows[0].v;
const attempt = (p) => p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e }));

function hasLoneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) { i++; continue; }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

// Any UTF-16 code units, so NULs and lone surrogates come up often.
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const mixedString = fc.oneof(anyString, fc.string({ unit: 'grapheme' }), fc.string());

test('strings_round_trip_or_are_refused_clearly', async () => {
  await fc.assert(fc.asyncProperty(mixedString, async (s) => {
    const r = await attempt(one('SELECT $1::text AS v', s));
    const nul = s.includes('\u0000');
    if (nul || hasLoneSurrogate(s)) {
      expect(r.ok).toBe(false);
      expect(r.e).toBeInstanceOf(TypeError);
      expect(r.e.message).toMatch(nul && !hasLoneSurrogate(s)
        ? /^Cannot bind parameter \$1: .*NUL/
        : /^Cannot bind parameter \$1: .*(NUL|surrogate)/);
    } else {
      expect(r).toEqual({ ok: true, v: s });
    }
  }), params);
});

test('numbers_round_trip_as_float8', async () => {
  const numbers = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(
    Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, -(2 ** 63), Number.MAX_VALUE,
    Number.MIN_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity, -0));
  await fc.assert(fc.asyncProperty(numbers, async (d) => {
    const v = await one('SELECT $1::float8 AS v', d);
    if (Number.isNaN(d)) expect(v).toBeNaN();
    else expect(v === d).toBe(true);   // -0 travels as the integer 0
  }), params);
});

test('bigints_round_trip_as_int8_or_numeric', async () => {
  const big = fc.oneof(fc.bigInt(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }));
  await fc.assert(fc.asyncProperty(big, async (b) => {
    expect(await one('SELECT $1::numeric::text AS v', b)).toBe(b.toString());
    if (b >= -(2n ** 63n) && b < 2n ** 63n) expect(await one('SELECT $1::int8 AS v', b, dbBig)).toBe(b);
  }), params);
});

test('buffers_round_trip_as_bytea', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (u8) => {
    const buf = Buffer.from(u8);
    const v = await one('SELECT $1::bytea AS v', buf);
    expect(Buffer.isBuffer(v)).toBe(true);
    expect(v.equals(buf)).toBe(true);
    const w = await one('SELECT $1::bytea AS v', u8);  // a plain Uint8Array too
    expect(w.equals(buf)).toBe(true);
  }), params);
});

test('dates_round_trip_or_are_refused_clearly', async () => {
  // PostgreSQL's timestamptz spans 4713 BC .. 294276 AD; JS Dates go to
  // +-275760 years and can be invalid.
  const dates = fc.oneof(
    fc.date({ noInvalidDate: false }),
    fc.date({ min: new Date(Date.UTC(-4000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)) }),
    fc.constantFrom(new Date(0), new Date(-1), new Date(Date.UTC(0, 0, 1)), new Date(Date.UTC(-1, 11, 31, 23, 59, 59, 999)),
      new Date(Date.UTC(1900, 1, 28)), new Date(8.64e15), new Date(-8.64e15)));
  await fc.assert(fc.asyncProperty(dates, async (d) => {
    const r = await attempt(one('SELECT $1::timestamptz AS v', d));
    const ms = d.getTime();
    const pgMin = Date.UTC(-4712, 10, 24);   // 4713-11-24 BC
    if (Number.isNaN(ms)) {
      expect(r.ok).toBe(false);
      expect(r.e).toBeInstanceOf(TypeError);
      expect(r.e.message).toMatch(/Invalid Date/);
    } else if (ms < pgMin) {
      expect(r.ok).toBe(false);
      expect(r.e).toBeInstanceOf(pgatomic.DatabaseError);
      expect(r.e.code).toMatch(/^22/);
    } else {
      expect(r.ok).toBe(true);
      expect(r.v.getTime()).toBe(ms);
    }
  }), params);
});

test('nested_arrays_round_trip_or_are_refused_clearly', async () => {
  // Rectangular arrays of int4 round-trip; ragged ones are refused by the
  // server (PostgreSQL arrays are rectangular).
  const int4 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constant(null));
  const rect = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
    .chain(([r, c]) => fc.array(fc.array(int4, { minLength: c, maxLength: c }), { minLength: r, maxLength: r }));
  const ragged = fc.array(fc.array(int4, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 4 });
  await fc.assert(fc.asyncProperty(fc.oneof(rect, ragged, fc.array(int4, { maxLength: 20 })), async (a) => {
    const r = await attempt(one('SELECT $1::int4[] AS v', a));
    const rectangular = !Array.isArray(a[0]) || a.every((row) => row.length === a[0].length);
    if (rectangular) expect(r).toEqual({ ok: true, v: a });
    else {
      expect(r.ok).toBe(false);
      expect(r.e).toBeInstanceOf(pgatomic.DatabaseError);
      expect(r.e.code).toMatch(/^22|^2202E/);
    }
  }), params);
});

test('plain_objects_round_trip_as_jsonb_or_are_refused_clearly', async () => {
  const obj = fc.dictionary(mixedString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
  await fc.assert(fc.asyncProperty(obj, async (o) => {
    const r = await attempt(one('SELECT $1::jsonb AS v', o));
    const text = JSON.stringify(o);
    // jsonb has no \u0000 and no lone surrogate escapes.
    const unstorable = /\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i.test(text);
    if (unstorable) {
      expect(r.ok).toBe(false);
      expect(r.e).toBeInstanceOf(pgatomic.DatabaseError);
      expect(r.e.code).toMatch(/^22/);
    } else {
      expect(r).toEqual({ ok: true, v: JSON.parse(text) });
    }
  }), params);
});
