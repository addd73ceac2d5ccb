#!/usr/bin/env bash
# test.sh -- the README's test command: install what is missing, build, then
# run every suite against ONE throwaway PostgreSQL, each suite in a database
# of its own.  The last line is `N passed, N failed` summed over all suites;
# the exit status is non-zero if anything failed.
#
# A suite is scripts/suite-NAME.sh whose last line is `N passed, N failed`
# (optionally `, N skipped`).
# One that exits non-zero without that line, or with it but "0 failed" (a
# sanitizer or valgrind finding after the tests), counts as 1 failed; so does
# one that prints no such line at all.
#
# PGA_SUITE_TIMEOUT=SECONDS (.ci/run sets it) stops a suite that hangs.
set -euo pipefail
cd "$(dirname "$0")/.."

# NAME-pgbouncer: suite NAME again through a stock PgBouncer in transaction
# mode (scripts/suite-pgbouncer.sh NAME).
SUITES=(c python node node-package django sqlalchemy python-pgbouncer node-pgbouncer)
SUMMARY_RE='^([A-Za-z][A-Za-z0-9_-]*: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'

export npm_config_nodedir=${npm_config_nodedir:-/usr}
export MAKEFLAGS=${MAKEFLAGS:--j$(nproc)}

heading() { printf '\n==== %s\n' "$*"; }

# record NAME PASSED FAILED SKIPPED NOTE: one line of $WORK/results.
record() {
    printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/results"
}

# tally NAME RC LOG: read the suite's last summary line from LOG and record it.
tally() {
    local name=$1 rc=$2 log=$3 line
    # Colours and trailing blanks/CRs would hide the line from the pattern.
    line=$(sed -e 's/\x1b\[[0-9;]*m//g' -e 's/[[:space:]]*$//' "$log" \
        | grep -E "$SUMMARY_RE" | tail -n 1 || true)
    if [[ $line =~ $SUMMARY_RE ]]; then
        local passed=${BASH_REMATCH[2]} failed=${BASH_REMATCH[3]} skipped=${BASH_REMATCH[5]:-0}
        if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
            record "$name" "$passed" 1 "$skipped" "exited $rc after reporting no failure: counted as 1 failed"
        else
            record "$name" "$passed" "$failed" "$skipped" ""
        fi
    elif [ "$rc" != 0 ]; then
        record "$name" 0 1 0 "exited $rc without a summary line: counted as 1 failed"
    else
        record "$name" 0 1 0 "printed no 'N passed, N failed' line: counted as 1 failed"
    fi
}

# create_database NAME: a database of the suite's own, so one suite's
# leftover tables never meet another's.
create_database() {
    local pgbin
    pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    "$pgbin/createdb" "pga_$1"
}

# Inside the server: run each suite that exists, tee'd so progress shows.
run_suites() {
    local name script args rc timeout=()
    touch "$WORK/server-started"
    if [ -n "${PGA_SUITE_TIMEOUT:-}" ]; then
        timeout=(timeout -k 30 "$PGA_SUITE_TIMEOUT")
    fi
    for name in "${SUITES[@]}"; do
        script=scripts/suite-$name.sh args=()
        case $name in
            *-pgbouncer) script=scripts/suite-pgbouncer.sh args=("${name%-pgbouncer}") ;;
        esac
        [ -f "$script" ] || continue
        if [ "$name" = c ] && [ -e "$WORK/build-failed" ]; then
            continue        # already counted as the build's failure
        fi
        heading "suite: $name ($script)"
        if ! create_database "${name//-/_}"; then
            record "$name" 0 1 0 "could not create its database"
            continue
        fi
        rc=0
        # The subshell keeps the database switch to this suite; stdin is
        # /dev/null as in CI, so nothing waits on a terminal.
        (
            export PGDATABASE="pga_${name//-/_}"
            export DATABASE_URL="postgresql://$PGUSER@/$PGDATABASE?host=$PGHOST&port=$PGPORT"
            exec "${timeout[@]}" bash "$script" "${args[@]}" </dev/null
        ) 2>&1 | tee "$WORK/$name.log" || rc=${PIPESTATUS[0]}
        if [ "$rc" = 124 ] && [ ${#timeout[@]} -gt 0 ]; then
            echo "test.sh: suite $name timed out after ${PGA_SUITE_TIMEOUT}s"
        fi
        tally "$name" "$rc" "$WORK/$name.log"
    done
}

# Print each suite's count, then the one plain line CI reads, and exit:
# non-zero if anything failed.
finish() {
    local name passed failed skipped note tp=0 tf=0 ts=0
    heading "summary"
    while IFS=$'\t' read -r name passed failed skipped note; do
        printf '  %-8s %s passed, %s failed%s%s\n' "$name" "$passed" "$failed" \
            "$([ "$skipped" != 0 ] && echo ", $skipped skipped")" "${note:+  ($note)}"
        tp=$((tp + passed)) tf=$((tf + failed)) ts=$((ts + skipped))
    done <"$WORK/results"
    if [ "$ts" != 0 ]; then
        echo "$tp passed, $tf failed, $ts skipped"
    else
        echo "$tp passed, $tf failed"
    fi
    [ "$tf" = 0 ] && exit 0
    exit 1
}

if [ "${1:-}" = --in-server ]; then
    WORK=$2
    run_suites
    exit 0
fi

WORK=$(mktemp -d /tmp/pga-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
: >"$WORK/results"

heading "setup (scripts/setup.sh)"
# Go on after a failure: a half-done setup (say, the Node addon failing to
# compile in `npm install`) should not hide what the other suites say.
if ! bash scripts/setup.sh; then
    record setup 0 1 0 "scripts/setup.sh failed"
fi

heading "build (make)"
if ! make; then
    record build 0 1 0 "make failed: the C suite was not run"
    touch "$WORK/build-failed"
fi

heading "server (scripts/pgtmp)"
rc=0
scripts/pgtmp run -- bash scripts/test.sh --in-server "$WORK" || rc=$?
if [ ! -e "$WORK/server-started" ]; then
    record server 0 1 0 "scripts/pgtmp exited $rc before any suite ran"
fi
finish
