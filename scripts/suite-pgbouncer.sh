#!/usr/bin/env bash
# suite-pgbouncer.sh SUITE... -- the Python and/or Node suite (default:
# both) again, through a stock PgBouncer 1.18 in transaction mode
# (tests/servers/cluster.sh bouncer) in front of the server in PG*.
#
# A transaction-mode pooler gives each transaction, and each statement
# outside one, whatever server session is free.  Tests that need ONE server
# session for their whole length are listed with their reason (pytest:
# NEEDS_SESSION in tests/python/conftest.py or the needs_session marker;
# jest: NEEDS_SESSION in tests/node/needs-session.js).  Tests the pooler
# would repeat unchanged (servers of their own, the leak meters) are listed
# beside them (SAME_THROUGH_POOLER).  Both lists are printed before the run
# and those tests are reported as skipped, never as passed.
# Each suite ends with its own `N passed, N failed, N skipped` line, the
# last line sums them; exits non-zero on any failure.
#
#   bash scripts/suite-pgbouncer.sh python     # scripts/test.sh runs each
#   bash scripts/suite-pgbouncer.sh node tests/node/pool.test.js
#                                              # a suite's own arguments
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PGHOST:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
    exec scripts/pgtmp run -- bash "$0" "$@"
fi

suites=()
case "${1:-}" in
    python|node) suites=("$1"); shift ;;
    "") suites=(python node) ;;
    *) echo "usage: suite-pgbouncer.sh [python|node [SUITE ARGS...]]" >&2; exit 2 ;;
esac

read -r bdir bport < <(bash tests/servers/cluster.sh bouncer transaction "${PGHOST:-/tmp}" "${PGPORT:-5432}") \
    || { echo "suite-pgbouncer: could not start pgbouncer"; echo "0 passed, 1 failed"; exit 1; }
[ -n "${bport:-}" ] || { echo "suite-pgbouncer: could not start pgbouncer"; echo "0 passed, 1 failed"; exit 1; }
trap 'bash tests/servers/cluster.sh bouncer-stop "$bdir"' EXIT
echo "suite-pgbouncer: PgBouncer $(pgbouncer --version 2>/dev/null | head -n 1 | awk '{print $2}') (transaction mode) on 127.0.0.1:$bport before ${PGHOST:-/tmp}:${PGPORT:-5432}"

db=${PGDATABASE:-postgres}
# Tests that must reach the server itself (a role's defaults, a second
# session to watch the first) read PGA_DIRECT_*.
export PGA_DIRECT_HOST=${PGHOST:-/tmp} PGA_DIRECT_PORT=${PGPORT:-5432}
export PGA_DIRECT_URL=${DATABASE_URL:-}
export PGA_VIA_PGBOUNCER=transaction
export PGHOST=127.0.0.1 PGPORT=$bport
export DATABASE_URL="postgresql://${PGUSER:-postgres}@127.0.0.1:$bport/$db?sslmode=disable"

# print_list SUITE: the tests reported as skipped here, each with why.
print_list() {
    echo "suite-pgbouncer: $1 tests reported as skipped here (never counted as passed):"
    case $1 in
        python) (cd tests/python && python3 -c '
import conftest
for title, table in (("needs one server session", conftest.NEEDS_SESSION),
                     ("not run through the pooler", conftest.SAME_THROUGH_POOLER)):
    for test, why in table.items():
        print(f"  {test} [{title}: {why}]")
') ;;
        node) node -e '
global.expect = { getState: () => ({}) };
const lists = require("./tests/node/needs-session.js");
for (const [title, table] of [["needs one server session", lists.NEEDS_SESSION],
                              ["not run through the pooler", lists.SAME_THROUGH_POOLER]])
  for (const [file, tests] of Object.entries(table))
    for (const [name, why] of Object.entries(tests)) console.log(`  ${file} ${name} [${title}: ${why}]`);
' ;;
    esac
}

total_p=0 total_f=0 total_s=0
for suite in "${suites[@]}"; do
    log=$(mktemp)
    printf '\n---- %s through PgBouncer\n' "$suite"
    print_list "$suite"
    bash "scripts/suite-$suite.sh" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line"); p=${p:-0}
    f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line"); f=${f:-1}
    # pytest's last line and jest's Tests: line both say "N skipped".
    s=$(grep -E '(^Tests:| in [0-9.]+s)' "$log" | grep -oE '[0-9]+ skipped' | tail -n 1 | grep -oE '[0-9]+'); s=${s:-0}
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    # PgBouncer itself must have survived the suite (1.18 exits on some
    # client behaviour, e.g. a cancel request closed too early).
    if ! kill -0 "$(cat "$bdir/pgbouncer.pid" 2>/dev/null || echo none)" 2>/dev/null; then
        echo "suite-pgbouncer: PgBouncer exited during the $suite suite:"
        grep -E 'FATAL|ERROR' "$bdir/pgbouncer.log" | tail -n 5
        f=$((f + 1))
    fi
    echo "[$suite through pgbouncer] $p passed, $f failed, $s skipped"
    total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
    rm -f "$log"
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
