#!/usr/bin/env bash
# sequelize-suite.sh -- Sequelize v6's own integration suite, unmodified, on
# the stock `pg` and on pgatomic/pg (every require('pg') answered by it
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
# Set SEQ_ONLY=stock or SEQ_ONLY=pgatomic to run one side.  Results (xunit
# XML, logs) go to $SEQ_OUT (default: a temp dir, printed).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SEQ=${1:?usage: sequelize-suite.sh SEQUELIZE_V6_CHECKOUT [mocha spec...]}
SEQ=$(cd "$SEQ" && pwd)
shift
SPECS=("$@")
[ ${#SPECS[@]} -gt 0 ] || SPECS=('test/integration/**/*.test.[tj]s')
OUT=${SEQ_OUT:-$(mktemp -d /tmp/sequelize-suite.XXXXXX)}
mkdir -p "$OUT"

# v6's source tree (src/dialects/...); v7 is a monorepo (packages/core).
if [ "$(node -p "require('$SEQ/package.json').name" 2>/dev/null)" != sequelize ] \
    || [ ! -f "$SEQ/src/dialects/postgres/connection-manager.js" ]; then
    echo "not a Sequelize v6 checkout: $SEQ" >&2
    exit 1
fi
if [ ! -d "$SEQ/node_modules/mocha" ]; then
    (cd "$SEQ" && npm install --ignore-scripts --no-audit --no-fund)
fi
if [ ! -f "$SEQ/lib/index.js" ]; then
    (cd "$SEQ" && node build.js)
fi
if [ ! -f "$ROOT/build/Release/pgatomic.node" ] || [ ! -d "$ROOT/node_modules/pg-pool" ]; then
    (cd "$ROOT" && npm_config_nodedir=/usr npm install --no-audit --no-fund)
fi

# One server for both runs, on 127.0.0.1 with password authentication, as
# Sequelize's test config expects (SEQ_PG_HOST/PORT, user/password/db
# sequelize_test).
eval "$(PGTMP_TCP=1 "$ROOT/scripts/pgtmp" start | grep '^export')"
trap '"$ROOT/scripts/pgtmp" stop "$PGTMP_DIR" >/dev/null 2>&1 || true' EXIT
psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE sequelize_test LOGIN SUPERUSER PASSWORD 'sequelize_test'"

run() {   # run NAME: one whole run into $OUT/NAME.xml, its output into $OUT/NAME.log
    local name=$1 start rc
    psql -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sequelize_test WITH (FORCE)" \
        -c "CREATE DATABASE sequelize_test OWNER sequelize_test"
    # The extensions Sequelize's CI image has (PostGIS is not packaged here:
    # its tests fail on both drivers alike).
    psql -q -v ON_ERROR_STOP=1 -d sequelize_test -c "CREATE EXTENSION hstore" \
        -c "CREATE EXTENSION citext" -c "CREATE EXTENSION btree_gist"
    start=$(date +%s)
    set +e
    (cd "$SEQ" && env DIALECT=postgres SEQ_PG_HOST=127.0.0.1 SEQ_PG_PORT="$PGTMP_TCP_PORT" \
        ${STOCK:+PGA_PRELOAD_STOCK=1} \
        npx mocha -r "$ROOT/scripts/orm/pg-preload.js" -r ./test/registerEsbuild \
        --reporter xunit --reporter-options "output=$OUT/$name.xml" "${SPECS[@]}") \
        >"$OUT/$name.log" 2>&1
    rc=$?
    set -e
    echo "$name: mocha exited $rc after $(( $(date +%s) - start )) s" | tee -a "$OUT/times"
}

case ${SEQ_ONLY:-both} in
    stock) STOCK=1 run stock ;;
    pgatomic) run pgatomic ;;
    *) STOCK=1 run stock; run pgatomic ;;
esac
node "$ROOT/scripts/orm/compare-xunit.js" "$OUT"/stock.xml "$OUT"/pgatomic.xml
echo "logs and xunit results: $OUT"
