'use strict';
// Parameters as node-postgres sends them: every value becomes text (or a
// Buffer, or null) on the client, and travels untyped, so the server infers
// the type from where the placeholder stands (`WHERE text_col = $1` with a
// number compares text, as with pg).  The rules are pg's prepareValue
// (lib/utils.js, documented under "Parameterized query"): Dates in local
// time (UTC when defaults.parseInputDatesAsUTC), arrays as array literals,
// toPostgres() honoured, other objects as JSON.

const { isDate } = require('util/types');

function pad(n, width) {
  return String(n).padStart(width, '0');
}

// pg's timestamp text: "2024-01-31T12:00:00.000+01:00", " BC" for years
// before 1 (year 0 is 1 BC).
function dateText(date, utc) {
  let year = utc ? date.getUTCFullYear() : date.getFullYear();
  const bc = year < 1;
  if (bc) year = 1 - year;
  const get = utc
    ? [date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(),
      date.getUTCSeconds(), date.getUTCMilliseconds()]
    : [date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(),
      date.getSeconds(), date.getMilliseconds()];
  const [mo, d, h, mi, s, ms] = get;
  let text = `${pad(year, 4)}-${pad(mo + 1, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}`;
  if (utc) {
    text += '+00:00';
  } else {
    const east = -date.getTimezoneOffset();
    const abs = Math.abs(east);
    text += `${east < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
  }
  return bc ? `${text} BC` : text;
}

function asBuffer(view) {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

// An array literal: {1,"two",NULL,{3,4}}; every non-null element quoted,
// bytes as \\x hex escapes.
function arrayLiteral(list, defaults) {
  const parts = list.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item, defaults);
    if (ArrayBuffer.isView(item)) return `\\\\x${asBuffer(item).toString('hex')}`;
    const text = prepare(item, defaults, undefined);
    return `"${wellFormed(String(text)).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

// A value as pg sends it: null, a Buffer (bytea), or a string.  Throws
// what toPostgres() or JSON.stringify() throws; the query then rejects.
function prepare(value, defaults, seen) {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return wellFormed(value.toString());
  if (ArrayBuffer.isView(value)) return asBuffer(value);
  if (isDate(value)) return dateText(value, Boolean(defaults && defaults.parseInputDatesAsUTC));
  if (Array.isArray(value)) return arrayLiteral(value, defaults);
  if (typeof value.toPostgres === 'function') {
    const chain = seen || [];
    if (chain.includes(value)) {
      throw new Error(`circular reference detected while preparing "${value}" for query`);
    }
    chain.push(value);
    return prepare(value.toPostgres((v) => prepare(v, defaults, undefined)), defaults, chain);
  }
  return wellFormed(JSON.stringify(value));
}

// pg writes strings as UTF-8 with Buffer, which turns a lone surrogate
// into U+FFFD; the same here (the addon would refuse it).
function wellFormed(text) {
  return typeof text === 'string' && !text.isWellFormed() ? text.toWellFormed() : text;
}

// The SQL a value may be written as where no parameter can go (DDL):
// libpq's PQescapeIdentifier / PQescapeLiteral rules, as pg exports them.
function escapeIdentifier(str) {
  return `"${String(str).replace(/"/g, '""')}"`;
}

function escapeLiteral(str) {
  if (typeof str !== 'string') return "''";
  const body = str.replace(/'/g, "''").replace(/\\/g, '\\\\');
  // With a backslash inside, pg writes an E'' string (and, like libpq, a
  // space before it so it cannot fuse with a preceding identifier).
  return str.includes('\\') ? ` E'${body}'` : `'${body}'`;
}

module.exports = { prepare, escapeIdentifier, escapeLiteral, dateText };
