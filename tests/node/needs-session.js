'use strict';
// Tests that need ONE server session for their whole length, with why.
// Through a transaction-mode pooler (scripts/suite-pgbouncer.sh sets
// PGA_VIA_PGBOUNCER) each transaction, or each statement outside one, may
// run on another server session, so these are reported as skipped there,
// with their reason in the name; never counted as passed.  Loaded by jest
// (setupFilesAfterEnv in package.json) before every test file.
const path = require('path');

// file -> { test name: reason }
const TERMINATE = 'ends its own idle session with pg_terminate_backend(pg_backend_pid() it '
  + 'read before); an idle client of the pooler holds no server session, so the pool never '
  + 'sees the loss (and the killer may end itself)';
const NEEDS_SESSION = {
  'faults.test.js': { pg_terminate_backend_of_an_idle_pooled_session: TERMINATE },
  'pool.test.js': { broken_connection_is_destroyed_not_returned: TERMINATE },
};

// Left out of that pass because it would repeat them unchanged (reported
// as skipped there too, with the reason): tests on servers of their own,
// and the leak meter, which measures only the client's memory.
const OWN_SERVERS = 'runs on servers of its own (tests/servers/cluster.sh), never on the '
  + "suite's server, so the pass through the pooler would repeat it unchanged";
const SAME_THROUGH_POOLER = {
  'deploy.test.js': {
    hung_server_ends_a_block_in_flight_within_the_deadline: OWN_SERVERS,
    abort_returns_at_once_on_a_hung_server: OWN_SERVERS,
    failover_from_a_crashed_primary_to_a_promoted_standby: OWN_SERVERS,
    failover_from_a_hung_primary_to_a_promoted_standby_within_the_deadline: OWN_SERVERS,
  },
  'leaks.test.js': {
    transactions_do_not_leak: "measures the client's own memory over many transactions; the "
      + 'pooler changes nothing it checks and makes it take minutes',
  },
};

if (process.env.PGA_VIA_PGBOUNCER) {
  const file = path.basename(expect.getState().testPath || '');
  const session = NEEDS_SESSION[file] || {};
  const same = SAME_THROUGH_POOLER[file] || {};
  const wrap = (original) => {
    const wrapped = (name, fn, timeout) => {
      if (session[name] !== undefined) {
        return original.skip(`${name} [needs one server session: ${session[name]}]`, fn, timeout);
      }
      if (same[name] !== undefined) {
        return original.skip(`${name} [not run through the pooler: ${same[name]}]`, fn, timeout);
      }
      return original(name, fn, timeout);
    };
    return Object.assign(wrapped, original);
  };
  global.test = wrap(global.test);
  global.it = wrap(global.it);
}

module.exports = { NEEDS_SESSION, SAME_THROUGH_POOLER };
