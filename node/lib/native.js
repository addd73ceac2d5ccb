'use strict';
// Loads the addon once per environment and hands it what it needs from JS
// (STYLE 1: error classes in JS, raised from C++).
const path = require('path');
const { makeError } = require('./errors');

function load() {
  const root = path.join(__dirname, '..', '..');
  const candidates = [
    path.join(root, 'build', 'Release', 'pgatomic.node'),
    path.join(root, 'build', 'Debug', 'pgatomic.node'),
  ];
  let lastError;
  for (const file of candidates) {
    try {
      return require(file);
    } catch (err) {
      lastError = err;
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  // Usually npm skipped the package's install script (npm 11 asks for
  // approval of dependencies' scripts), or the build failed for lack of a
  // compiler, python3 or libpq-dev (pg_config).
  const err = new Error(
    'pgatomic: the native addon is not built. If npm skipped its install script, approve and ' +
    'rebuild it: `npm install-scripts approve pgatomic && npm rebuild pgatomic` (in a checkout: ' +
    '`npm install`). The build needs a C/C++ compiler, python3, libpq-dev (pg_config) and ' +
    'npm_config_nodedir pointing at the Node headers (/usr with Debian\'s libnode-dev).');
  err.cause = lastError;
  throw err;
}

// Wall-clock values (date, timestamp without time zone) are read in the
// process's zone, as node-postgres does; setFullYear keeps years 0..99.
function localDate(y, mo, d, h, mi, s, ms) {
  const t = new Date(y, mo - 1, d, h, mi, s, ms);
  if (y >= 0 && y < 100) t.setFullYear(y, mo - 1, d);
  return t;
}

// The inverse: a Date's wall-clock time in the process's zone, as ms of
// that time read in UTC.  Exact where getTimezoneOffset() rounds (local
// mean time before 1900 has offsets with seconds).
function wallClockMs(d) {
  const t = new Date(0);
  t.setUTCFullYear(d.getFullYear(), d.getMonth(), d.getDate());
  t.setUTCHours(d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds());
  return t.getTime();
}

// rowFiller(names, cells, nums, tags) -> fill(rows, start, count): the rows
// of one result, made from the cells the addon lays out a slice at a time,
// row after row (convert.cc, CellTag): tags[k] says where cell k is --
// 0 a number in nums, 1 a value in cells, 2 null, 3 a Date's time in nums,
// 4 false, 5 true.  Keys in column order, a repeated name in its first
// place with the last value (pg's rows).  The template's keys are defined,
// so a column named __proto__ is an own key that the spread copies and the
// assignment sets as data; an Object.create(null) template would do the
// same but, being a dictionary, makes each copy about 5x slower.
function rowFiller(names, cells, nums, tags) {
  const empty = {};
  for (const name of names) {
    Object.defineProperty(empty, name, { value: null, writable: true, enumerable: true, configurable: true });
  }
  const n = names.length;
  return (rows, start, count) => {
    for (let r = 0, k = 0; r < count; r++) {
      const row = { ...empty };
      for (let c = 0; c < n; c++, k++) {
        const t = tags[k];
        row[names[c]] = t === 0 ? nums[k] : t === 1 ? cells[k] : t === 2 ? null
          : t === 3 ? new Date(nums[k]) : t === 5;
      }
      rows[start + r] = row;
    }
  };
}

const binding = load();
// Every value the addon creates on its own (errors, dates, parsed JSON) is
// made by these functions, so it belongs to the realm that loaded this file
// (jest runs each test file in a vm context of its own).
binding.setup({
  makeError,
  localDate,
  wallClockMs,
  makeDate: (ms) => new Date(ms),
  rowFiller,
  jsonParse: JSON.parse,
  jsonStringify: JSON.stringify,
  objectPrototype: Object.prototype,
});

module.exports = binding;
