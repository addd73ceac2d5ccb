#!/usr/bin/env bash
# sequelize-suite.sh -- Sequelize v6's own integration suite, unmodified, on
# the stock pg and on pgatomic/pg (every require('pg') answered by it
# through scripts/orm/pg-preload.js), against one throwaway PostgreSQL.
# Prints both counts and every test whose outcome differs.
#
#   bash scripts/orm/sequelize-suite.sh /path/to/sequelize-v6 [mocha spec...]
#
# The checkout is Sequelize's git branch `v6` (e.g. `git archive v6` of
# github.com/sequelize/sequelize); this script installs its dev
# dependencies (npm install --ignore-scripts) and builds it (node build.js)
# when that has not been done.  Default spec: test/integration/**/*.test.[tj]s.
# Not part of scripts/test.sh: CI has no GitHub access to fetch Sequelize.
# SUITE_ONLY=stock|pgatomic runs one side; results (xunit XML, logs) go to
# $SUITE_OUT (default: a temp dir, printed).  About 6 and 10 minutes for the
# two runs on a loaded 2-core machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# v6's source tree (src/dialects/...); v7 is a monorepo (packages/core).
SEQ=$(orm_checkout "${1:?usage: sequelize-suite.sh SEQUELIZE_V6_CHECKOUT [mocha spec...]}" \
    sequelize src/dialects/postgres/connection-manager.js)
shift
SPECS=("$@")
[ ${#SPECS[@]} -gt 0 ] || SPECS=('test/integration/**/*.test.[tj]s')
orm_output sequelize
[ -f "$SEQ/lib/index.js" ] || (cd "$SEQ" && node build.js)
orm_prepare
# Sequelize's test config: SEQ_PG_HOST/PORT, user/password/db sequelize_test.
orm_start_server
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE sequelize_test LOGIN SUPERUSER PASSWORD 'sequelize_test'"

run() {
    psql -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS sequelize_test WITH (FORCE)" \
        -c "CREATE DATABASE sequelize_test OWNER sequelize_test"
    # The extensions Sequelize's CI image has (PostGIS is not packaged here:
    # its tests fail on both drivers alike).
    psql -q -v ON_ERROR_STOP=1 -d sequelize_test -c "CREATE EXTENSION hstore" \
        -c "CREATE EXTENSION citext" -c "CREATE EXTENSION btree_gist"
    orm_run_mocha "$1" "$SEQ" DIALECT=postgres SEQ_PG_HOST=127.0.0.1 SEQ_PG_PORT="$PGTMP_TCP_PORT" \
        -- -r ./test/registerEsbuild "${SPECS[@]}"
}
case ${SUITE_ONLY:-${SEQ_ONLY:-both}} in
    stock) run stock ;;
    pgatomic) run pgatomic ;;
    *) run stock; run pgatomic ;;
esac
orm_compare
