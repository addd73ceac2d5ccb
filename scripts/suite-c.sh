#!/usr/bin/env bash
# suite-c.sh -- the C tests three ways: plain (`make test`), under ASan+UBSan
# (`make asan`) and under valgrind (`make valgrind`); the fuzz corpus replayed
# under sanitizers (`make fuzz-replay`); the test proxy's self-check (`make
# proxy-check`).  Each run counts on its own; the last line sums them as
# `N passed, N failed`.
#
# A run that exits non-zero after printing "0 failed" (a leak or memory error
# found once the tests were done) counts as 1 failed; so does one that exits
# non-zero without a summary line (a build error, a sanitizer abort).
# Needs a server through PG*/DATABASE_URL; with neither set it starts its own.
# Starts a PgBouncer in front of it for the tests that go through one.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/suite-c.sh "$@"
fi

SUMMARY_RE='^([0-9]+) passed, ([0-9]+) failed$'
total_passed=0
total_failed=0

# A stock PgBouncer (transaction mode) in front of the server for the tests
# that also go through one (PGA_BOUNCER_URL): the styled role's values, a
# cancel then free.  Not starting it is a failure, never a silent skip.
if [ -z "${PGA_BOUNCER_URL:-}" ]; then
    bport=
    read -r bdir bport < <(bash tests/servers/cluster.sh bouncer transaction \
        "${PGHOST:-/var/run/postgresql}" "${PGPORT:-5432}") || true
    if [ -n "$bport" ]; then
        trap 'bash tests/servers/cluster.sh bouncer-stop "$bdir"' EXIT
        export PGA_BOUNCER_URL="host=127.0.0.1 port=$bport dbname=${PGDATABASE:-postgres} sslmode=disable"
        echo "suite-c: PgBouncer (transaction mode) for the tests through it: 127.0.0.1:$bport"
    else
        echo "[pgbouncer] 0 passed, 1 failed  (could not start it: tests/servers/cluster.sh bouncer)"
        total_failed=1
    fi
fi

# run TARGET: make TARGET, show its output, add its counts to the totals.
run() {
    local target=$1 log rc=0 line passed=0 failed=1 note=""
    log=$(mktemp)
    printf '\n---- make %s\n' "$target"
    make "$target" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    line=$(sed 's/[[:space:]]*$//' "$log" | grep -E "$SUMMARY_RE" | tail -n 1 || true)
    rm -f "$log"
    if [[ $line =~ $SUMMARY_RE ]]; then
        passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
        if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
            failed=1 note="  (exited $rc after reporting no failure: counted as 1 failed)"
        fi
    elif [ "$rc" != 0 ]; then
        note="  (exited $rc without a summary line: counted as 1 failed)"
    else
        note="  (printed no summary line: counted as 1 failed)"
    fi
    # Bracketed so that only the total below reads as the suite's result.
    echo "[make $target] $passed passed, $failed failed$note"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

run test
run asan
run valgrind
run fuzz-replay
run proxy-check

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" = 0 ]
