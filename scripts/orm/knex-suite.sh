#!/usr/bin/env bash
# knex-suite.sh -- knex's own integration suite for PostgreSQL, unmodified,
# on the stock pg and on pgatomic/pg (every require('pg') answered by it
# through scripts/orm/pg-preload.js), against one throwaway server.  Prints
# both counts and every test whose outcome differs.
#
#   bash scripts/orm/knex-suite.sh /path/to/knex-checkout [mocha spec...]
#
# The checkout is knex's git repository (e.g. `git archive` of its release
# tag); its dev dependencies are installed with npm install --ignore-scripts
# when missing.  knex's tests read the connection from the file KNEX_TEST
# names (test/knexfile.js); DB=postgres selects PostgreSQL.  Default spec:
# knex's test:db config (test/mocha-integration-config-test.js).  Not part
# of scripts/test.sh: CI has no GitHub access to fetch knex.  About a
# minute per run.
# SUITE_ONLY=stock|pgatomic runs one side; results go to $SUITE_OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KNEX=$(orm_checkout "${1:?usage: knex-suite.sh KNEX_CHECKOUT [mocha spec...]}" knex test/knexfile.js)
shift
orm_output knex
# knex's test files load the sqlite3 addon even for PostgreSQL.  The
# install above skipped its build script, so it is built here: npm's
# sqlite3 package (the registry's, as knex's devDependencies name it, with
# the SQLite source it ships) compiled against the installed Node headers,
# no prebuilt binary downloaded.  Fine for this hand-run script; CI never
# builds fetched code.
if [ ! -f "$KNEX/node_modules/sqlite3/build/Release/node_sqlite3.node" ]; then
    (cd "$KNEX" && npm_config_nodedir=/usr npm_config_build_from_source=true npm rebuild sqlite3)
fi
orm_prepare
orm_start_server
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE testuser LOGIN SUPERUSER PASSWORD 'knextest'"
cat >"$OUT/knex-test-config.js" <<JS
module.exports = { postgres: { adapter: 'postgresql', host: '127.0.0.1', port: $PGTMP_TCP_PORT,
  database: 'knex_test', user: 'testuser', password: 'knextest' } };
JS
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--exit -t 10000 --config test/mocha-integration-config-test.js)

run() {
    psql -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS knex_test WITH (FORCE)" -c "CREATE DATABASE knex_test OWNER testuser"
    orm_run_mocha "$1" "$KNEX" DB=postgres KNEX_TEST="$OUT/knex-test-config.js" -- "${args[@]}"
}
case ${SUITE_ONLY:-both} in
    stock) run stock ;;
    pgatomic) run pgatomic ;;
    *) run stock; run pgatomic ;;
esac
orm_compare
