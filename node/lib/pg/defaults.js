'use strict';
// pg.defaults: the values a Client falls back on after its config and the
// PG* environment variables, with node-postgres's documented defaults.
// Users change them in place (pg.defaults.parseInt8 = true, ...).
const types = require('pg-types');

const defaults = {
  host: 'localhost',
  user: process.platform === 'win32' ? process.env.USERNAME : process.env.USER,
  database: undefined,
  password: null,
  connectionString: undefined,
  port: 5432,
  rows: 0,
  binary: false,
  max: 10,
  idleTimeoutMillis: 30000,
  client_encoding: '',
  ssl: false,
  application_name: undefined,
  fallback_application_name: undefined,
  options: undefined,
  parseInputDatesAsUTC: false,
  statement_timeout: false,
  lock_timeout: false,
  idle_in_transaction_session_timeout: false,
  query_timeout: false,
  connect_timeout: 0,
  keepalives: 1,
  keepalives_idle: 0,
};

// defaults.parseInt8 = true makes int8 (and int8[]) parse as numbers, as
// int4 does; false restores the string parsers.
const INT8 = 20;
const INT8_ARRAY = 1016;
const int8Text = types.getTypeParser(INT8, 'text');
const int8ArrayText = types.getTypeParser(INT8_ARRAY, 'text');
Object.defineProperty(defaults, 'parseInt8', {
  enumerable: false,
  set(on) {
    types.setTypeParser(INT8, 'text', on ? types.getTypeParser(23, 'text') : int8Text);
    types.setTypeParser(INT8_ARRAY, 'text', on ? types.getTypeParser(1007, 'text') : int8ArrayText);
  },
});

module.exports = defaults;
