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
const PID = 'identifies its session by pg_backend_pid(); through the pooler each statement '
  + 'may run on another server session';
const LISTEN = 'LISTEN belongs to a server session; a transaction-mode pooler gives the idle '
  + 'client none, so notifications for it go nowhere (PgBouncer documents LISTEN as unsupported '
  + 'in this mode)';
const POOLER_ANSWERS = 'PgBouncer answers a startup it cannot serve itself: the options startup '
  + "parameter, which carries pg's statement_timeout (node-postgres sends it as a startup "
  + "parameter of its own, refused alike), is refused, and an unknown database is PgBouncer's "
  + "08P01, not the server's 3D000";
const NEEDS_SESSION = {
  'faults.test.js': { pg_terminate_backend_of_an_idle_pooled_session: TERMINATE },
  'pool.test.js': { broken_connection_is_destroyed_not_returned: TERMINATE },
  'pg-pool.test.js': { pg_pool_connection_timeout_and_idle_error_events: TERMINATE },
  'notifications.test.js': {
    notifications_reach_the_database_while_its_session_idles: LISTEN,
    a_flood_of_notifications_arrives_whole_and_in_order: LISTEN,
  },
  'pg-client.test.js': {
    pg_processID_parameterStatus_and_transaction_status: PID,
    pg_terminated_backend_emits_error_and_the_query_rejects: TERMINATE,
    pg_idle_client_notices_a_terminated_backend: TERMINATE,
    pg_control_statement_notices_a_terminated_backend: TERMINATE,
    pg_listen_notifications_arrive_as_events: LISTEN,
    pg_connect_failures_carry_pg_codes: POOLER_ANSWERS,
    pg_statement_timeout_and_query_timeout: POOLER_ANSWERS,
  },
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
    cancels_on_a_hung_server_leave_the_thread_pool_free: OWN_SERVERS,
    abort_while_connecting_settles_at_once: 'connects to a silent listener of its own, never to '
      + "the suite's server, so the pass through the pooler would repeat it unchanged",
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
