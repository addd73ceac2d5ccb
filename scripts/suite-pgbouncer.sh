#!/usr/bin/env bash
# suite-pgbouncer.sh -- the Python and Node suites again, through a stock
# PgBouncer 1.18 in transaction mode (tests/servers/cluster.sh bouncer)
# in front of the server in PG*.  Tests that need one server session for
# their whole length are marked (pytest: needs_session; jest: the
# NEEDS_SESSION list in tests/node/helpers.js), each with its reason, and
# reported as skipped, never as passed.  Ends with one line
# `N passed, N failed, N skipped`; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PGHOST:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
    exec scripts/pgtmp run -- bash "$0" "$@"
fi

read -r bdir bport < <(bash tests/servers/cluster.sh bouncer transaction "${PGHOST:-/tmp}" "${PGPORT:-5432}") \
    || { echo "suite-pgbouncer: could not start pgbouncer"; echo "0 passed, 1 failed"; exit 1; }
trap 'bash tests/servers/cluster.sh bouncer-stop "$bdir"' EXIT
echo "suite-pgbouncer: PgBouncer (transaction mode) on 127.0.0.1:$bport before ${PGHOST:-/tmp}:${PGPORT:-5432}"

db=${PGDATABASE:-postgres}
export PGA_DIRECT_HOST=${PGHOST:-/tmp} PGA_DIRECT_PORT=${PGPORT:-5432}
export PGA_VIA_PGBOUNCER=transaction
export PGHOST=127.0.0.1 PGPORT=$bport
export DATABASE_URL="postgresql://${PGUSER:-postgres}@127.0.0.1:$bport/$db?sslmode=disable"

total_p=0 total_f=0 total_s=0
for suite in python node; do
    log=$(mktemp)
    printf '\n---- %s through PgBouncer\n' "$suite"
    bash "scripts/suite-$suite.sh" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line"); p=${p:-0}
    f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line"); f=${f:-1}
    # Skips: pytest's "N skipped", jest's "N skipped" on its Tests: line.
    s=$(grep -oE '[0-9]+ skipped' "$log" | tail -n 1 | grep -oE '[0-9]+'); s=${s:-0}
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    echo "[$suite through pgbouncer] $p passed, $f failed, $s skipped"
    total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
    rm -f "$log"
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
