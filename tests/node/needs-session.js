'use strict';
// Tests that need ONE server session for their whole length, with why.
// Through a transaction-mode pooler (scripts/suite-pgbouncer.sh sets
// PGA_VIA_PGBOUNCER) each transaction, or each statement outside one, may
// run on another server session, so these are reported as skipped there,
// with their reason in the name; never counted as passed.  Loaded by jest
// (setupFilesAfterEnv in package.json) before every test file.
const path = require('path');

// file -> { test name: reason }
const NEEDS_SESSION = {};

if (process.env.PGA_VIA_PGBOUNCER) {
  const file = path.basename(expect.getState().testPath || '');
  const reasons = NEEDS_SESSION[file] || {};
  const wrap = (original) => {
    const wrapped = (name, fn, timeout) => {
      const reason = reasons[name];
      if (reason === undefined) return original(name, fn, timeout);
      return original.skip(`${name} [needs one server session: ${reason}]`, fn, timeout);
    };
    return Object.assign(wrapped, original);
  };
  global.test = wrap(global.test);
  global.it = wrap(global.it);
}

module.exports = { NEEDS_SESSION };
