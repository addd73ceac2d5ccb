#!/usr/bin/env bash
# kysely-suite.sh -- Kysely's own node test suite for PostgreSQL, unmodified,
# on the stock pg and on pgatomic/pg, against one throwaway server.  Prints
# both counts and every test whose outcome differs.
#
#   bash scripts/orm/kysely-suite.sh /path/to/kysely-checkout [mocha spec...]
#
# The checkout is Kysely's git repository.  Its tests are ES modules: the
# preload answers `import ... from 'pg'` by priming the module cache with
# the suite's own pg file (scripts/orm/pg-preload.js).  Kysely's test setup
# names a fixed server (localhost:5434, kysely/kysely/kysely_test):
# PGA_SUITE_PG points both drivers' Client and Pool at the throwaway server
# instead, the same way for both.
# DIALECTS=postgres (Kysely's own switch) leaves the other databases out.
# Dev dependencies are installed (npm install --ignore-scripts) and Kysely
# and its tests built (tsc) when missing.  Not part of scripts/test.sh: CI
# has no GitHub access to fetch Kysely.  About a minute per run.
# SUITE_ONLY=stock|pgatomic runs one side; results go to $SUITE_OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KYSELY=$(orm_checkout "${1:?usage: kysely-suite.sh KYSELY_CHECKOUT [mocha spec...]}" kysely test/node/src/test-setup.ts)
shift
orm_output kysely
if [ ! -f "$KYSELY/dist/index.js" ]; then
    (cd "$KYSELY" && npx tsc && node scripts/add-deno-type-references.cjs \
        && node scripts/copy-interface-documentation.cjs)
fi
[ -d "$KYSELY/test/node/dist" ] || (cd "$KYSELY" && npx tsc -p test/node)
orm_prepare
orm_start_server
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE kysely LOGIN SUPERUSER PASSWORD 'kysely'"
export PGA_SUITE_PG="{\"host\":\"127.0.0.1\",\"port\":$PGTMP_TCP_PORT,\"user\":\"kysely\",\"password\":\"kysely\",\"database\":\"kysely_test\"}"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--timeout 15000 'test/node/dist/**/*.test.js')

run() {
    psql -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS kysely_test WITH (FORCE)" -c "CREATE DATABASE kysely_test OWNER kysely"
    orm_run_mocha "$1" "$KYSELY" DIALECTS=postgres -- "${args[@]}"
}
case ${SUITE_ONLY:-both} in
    stock) run stock ;;
    pgatomic) run pgatomic ;;
    *) run stock; run pgatomic ;;
esac
orm_compare
