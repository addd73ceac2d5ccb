'use strict';
// node-pg-native -- node-postgres's native bindings (`pg.native`, which
// drives the npm package `pg-native`, a libpq addon): node-pg.js's Client
// and hand-written transactions, on libpq instead of pg's JavaScript
// protocol code.  bench/run.sh installs pg-native (built by node-gyp against
// the system libpq); CI never does.
const { main, peer } = require('./common');
const { connect } = require('./node-pg');

main('node-pg-native', (o) => {
  const { native } = peer('pg');
  if (!native) throw new Error('pg.native is null: pg-native is not installed in bench/.peers/node');
  return connect(native.Client, o);
});
