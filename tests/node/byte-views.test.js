'use strict';
// Every ArrayBuffer view (Buffer, each typed array, DataView) and an
// ArrayBuffer itself is bytea holding exactly the bytes it views (its
// byteOffset and byteLength respected); what is not bytes is refused with
// a TypeError naming the parameter.
const fc = require('fast-check');
const { useDatabase } = require('../../jest');
const { propertyParams: params } = require('./helpers');


// A database of this file's own; each test in a transaction rolled back.
const db = useDatabase();

const VIEWS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];

// The bytes a view covers, as the server should store them.
const bytesOf = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

async function storedBytes(value) {
  const r = await db.query('SELECT $1::bytea AS b, octet_length($1::bytea) AS n', [value]);
  return r.rows[0];
}

test('every_array_buffer_view_is_bytea_of_its_bytes', async () => {
  const backing = new ArrayBuffer(64);
  new Uint8Array(backing).forEach((_, i, a) => { a[i] = (i * 37 + 11) & 0xff; });
  for (const View of VIEWS) {
    const size = View.BYTES_PER_ELEMENT;
    for (const [offset, count] of [[0, 64 / size], [size, 2], [size * 3, 0]]) {
      const v = new View(backing, offset, count);
      const { b, n } = await storedBytes(v);
      expect({ view: View.name, offset, bytes: [...b] }).toEqual({ view: View.name, offset, bytes: [...bytesOf(v)] });
      expect(n).toBe(v.byteLength);
    }
  }
  const dv = new DataView(backing, 5, 9);
  expect([...(await storedBytes(dv)).b]).toEqual([...bytesOf(dv)]);
  expect([...(await storedBytes(backing)).b]).toEqual([...new Uint8Array(backing)]);
  const sub = Buffer.from('hello world').subarray(6);
  expect((await storedBytes(sub)).b.toString()).toBe('world');
});

test('byte_views_inside_arrays_are_bytea_elements', async () => {
  const r = await db.query('SELECT $1::bytea[] AS a', [[new Uint16Array([0x0102]), Buffer.from([9]), null]]);
  expect(r.rows[0].a.map((x) => (x === null ? null : [...x]))).toEqual([[...bytesOf(new Uint16Array([0x0102]))], [9], null]);
});

test('byte_views_property', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.nat(16), fc.constantFrom(...VIEWS),
    async (bytes, skip, View) => {
      const buf = new ArrayBuffer(bytes.length + 16 * 8);
      const start = Math.min(skip, 16) * View.BYTES_PER_ELEMENT;
      new Uint8Array(buf, start).set(bytes);
      const v = new View(buf, start, Math.floor(bytes.length / View.BYTES_PER_ELEMENT));
      expect([...(await storedBytes(v)).b]).toEqual([...bytesOf(v)]);
    }), params);
});

test('values_that_are_not_bytes_are_refused_with_TypeError', async () => {
  for (const v of [new Map(), new Set(), new WeakMap(), Promise.resolve(1), Symbol('s'), () => 1,
    new (class Thing {})()]) {
    const e = await db.query('SELECT $1 AS v', [v]).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/^Cannot bind parameter \$1: /);
  }
  if (typeof SharedArrayBuffer === 'function') {
    const e = await db.query('SELECT $1 AS v', [new SharedArrayBuffer(4)]).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError);
  }
});
