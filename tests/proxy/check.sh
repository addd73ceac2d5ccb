#!/usr/bin/env bash
# check.sh -- self-test of pgproxy in front of a throwaway server.
#
#   bash tests/proxy/check.sh
#
# Starts its own server with scripts/pgtmp, builds pgproxy and
# pipeline_client into a temp dir (or uses $PGPROXY and $PIPELINE_CLIENT),
# and prints "N passed, N failed" last; exits non-zero on any failure.
# CHECK_VALGRIND=0 skips the valgrind part (e.g. for an ASan build).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${PGPROXY_CHECK_INNER:-}" ]; then
    exec env PGPROXY_CHECK_INNER=1 "$root/scripts/pgtmp" run -- bash "$here/check.sh" "$@"
fi

work=$(mktemp -d /tmp/pgproxy-check.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME CMD...: passes when CMD succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2"
PGPROXY=${PGPROXY:-}
if [ -z "$PGPROXY" ]; then
    PGPROXY=$work/pgproxy
    # shellcheck disable=SC2086
    cc $CFLAGS -g -o "$PGPROXY" "$here/pgproxy.c" || { fail build; finish; }
fi
PIPELINE_CLIENT=${PIPELINE_CLIENT:-}
if [ -z "$PIPELINE_CLIENT" ]; then
    PIPELINE_CLIENT=$work/pipeline_client
    # shellcheck disable=SC2086
    cc $CFLAGS -I"$(pg_config --includedir)" -o "$PIPELINE_CLIENT" "$here/pipeline_client.c" \
        -L"$(pg_config --libdir)" -lpq || { fail build-client; finish; }
fi
pass build

SOCK=$PGHOST/.s.PGSQL.$PGPORT
direct() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# start_proxy NAME [pgproxy args...]: sets PORT, CTL, PID.  With
# VALGRIND=1 in the environment it runs under valgrind.
start_proxy() {
    local name=$1
    shift
    local out=$work/$name.out
    if [ -n "${VALGRIND:-}" ]; then
        valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
            --error-exitcode=99 --log-file="$work/$name.vg" \
            "$PGPROXY" --upstream "unix:$SOCK" --listen 127.0.0.1:0 --control 127.0.0.1:0 "$@" \
            >"$out" 2>"$work/$name.err" &
    else
        "$PGPROXY" --upstream "unix:$SOCK" --listen 127.0.0.1:0 --control 127.0.0.1:0 "$@" \
            >"$out" 2>"$work/$name.err" &
    fi
    PID=$!
    pids+=("$PID")
    local line=
    for _ in $(seq 200); do
        line=$(head -n 1 "$out" 2>/dev/null)
        [ -n "$line" ] && break
        sleep 0.05
    done
    if [[ ! $line =~ ^listen=([0-9]+)\ control=([0-9]+)$ ]]; then
        fail "start $name" "got '$line'"
        finish
    fi
    PORT=${BASH_REMATCH[1]}
    CTL=${BASH_REMATCH[2]}
}

# ctl PORT COMMAND: one command, one reply line on stdout.
ctl() {
    local reply=
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf '%s\n' "$2" >&3
    IFS= read -r -t 5 reply <&3
    exec 3<&-
    printf '%s\n' "$reply"
}

# stat_of PORT KEY: one field of "stats".
stat_of() {
    ctl "$1" stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# wait_conns PORT N: until N proxied connections are open (5 s at most).
wait_conns() {
    for _ in $(seq 100); do
        [ "$(stat_of "$1" conns)" = "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

eq() { [ "$1" = "$2" ] || { echo "     expected '$2', got '$1'"; return 1; }; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || { echo "     $1 not in [$2, $3]"; return 1; }; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

direct -c "CREATE TABLE proxy_t (id int PRIMARY KEY)" || { fail setup; finish; }

# ---- (a) queries pass through, concurrently, also with a delay ----
start_proxy plain
P=$PORT C=$CTL PLAIN_PID=$PID
URL="host=127.0.0.1 port=$P"
NOSSL="$URL sslmode=disable gssencmode=disable"

check "select through proxy" eq "$(direct "$URL" -c 'select 40 + 2')" 42
check "control: unknown command" eq "$(ctl "$C" frobnicate)" "err unknown command"
check "control: bad arm" eq "$(ctl "$C" 'arm sideways COMMIT')" "err when must be before or after"
check "control: bad count" eq "$(ctl "$C" 'arm before COMMIT x')" "err bad count"

big=$(direct "$URL" -c "select length(string_agg(md5(g::text), '')) from generate_series(1, 200000) g")
check "large result through proxy" eq "$big" 6400000
copy_sum=$(seq 1 300000 | direct "$URL" -c "CREATE TEMP TABLE c (n int); COPY c FROM STDIN; SELECT sum(n) FROM c")
check "large COPY upload through proxy" eq "$copy_sum" 45000150000

t0=$(date +%s%N)
par=()
for i in $(seq 20); do
    direct "$URL" -c 'select pg_sleep(1)' >"$work/par.$i" 2>&1 &
    par+=($!)
done
# Sample while they run: the most connections seen open at once.
open=0
for _ in $(seq 40); do
    n=$(stat_of "$C" conns)
    [ "${n:-0}" -gt "$open" ] && open=$n
    [ "$open" -ge 20 ] && break
    sleep 0.025
done
par_ok=0
wait "${par[@]}"
for i in $(seq 20); do
    [ "$(cat "$work/par.$i")" = "" ] && par_ok=$((par_ok + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "20 concurrent sessions succeed" eq "$par_ok" 20
check "20 concurrent sessions are open at once (max $open)" between "$open" 10 20
# One second each, so that starting 20 psql on a loaded machine (7 s seen
# for 20 x 0.3 s) cannot pass for serial sessions: serial is >= 20 s.
check "20 concurrent sessions overlap in time (${ms} ms, serial >= 20000)" between "$ms" 1000 15000

start_proxy delayed --delay-us 500
DP=$PORT DC=$CTL
DNOSSL="host=127.0.0.1 port=$DP sslmode=disable gssencmode=disable"
check "select through delayed proxy" eq "$(direct "$DNOSSL" -c 'select 7')" 7
naive=$("$PIPELINE_CLIENT" "$DNOSSL" naive 20)
piped=$("$PIPELINE_CLIENT" "$DNOSSL" pipeline 20)
n_us=${naive#ok elapsed_us=}
p_us=${piped#ok elapsed_us=}
check "delay: 20 awaited queries take >= 20 ms (${n_us} us)" between "${n_us:-0}" 20000 200000
check "delay: one pipeline takes 1..50 ms (${p_us} us)" between "${p_us:-0}" 1000 50000
wait_conns "$DC" 0
check "delay: round trips counted" eq "$(stat_of "$DC" round_trips)" $((3 + (2 + 20) + (2 + 1)))

# Idle with a connection open: the loop must sleep, not spin.
direct "host=127.0.0.1 port=$DP" -c 'select pg_sleep(1.2)' >/dev/null &
idle=$!
sleep 0.1
c0=$(cpu_ticks "$PID")
sleep 1
c1=$(cpu_ticks "$PID")
wait "$idle"
check "no busy-waiting while idle (cpu ticks $((c1 - c0)))" between $((c1 - c0)) 0 5

# ---- (b) round trips ----
ctl "$C" reset >/dev/null
direct "$NOSSL" -c 'select 1' >/dev/null
wait_conns "$C" 0
check "psql -c: 3 round trips (startup, query, terminate)" eq "$(ctl "$C" stats)" \
    "conns=0 total_conns=1 round_trips=3 queries=1"
ctl "$C" reset >/dev/null
direct "$URL" -c 'select 1' >/dev/null
wait_conns "$C" 0
check "psql -c with SSL negotiation: 3..5 round trips" between "$(stat_of "$C" round_trips)" 3 5
ctl "$C" reset >/dev/null
"$PIPELINE_CLIENT" "$NOSSL" pipeline 5 >/dev/null
wait_conns "$C" 0
check "pipeline of 5 is one round trip (+startup, terminate)" eq "$(ctl "$C" stats)" \
    "conns=0 total_conns=1 round_trips=3 queries=5"
check "message types of the pipeline" eq "$(ctl "$C" types)" "B=5 D=5 E=5 P=5 S=1 X=1"
ctl "$C" reset >/dev/null
"$PIPELINE_CLIENT" "$NOSSL" naive 5 >/dev/null
wait_conns "$C" 0
check "5 awaited queries are 5 round trips (+2)" eq "$(stat_of "$C" round_trips)" 7

# ---- (c) faults ----
count_id() { direct -c "select count(*) from proxy_t where id = $1"; }

check "arm before COMMIT" eq "$(ctl "$C" 'arm before COMMIT')" ok
out=$(printf 'BEGIN;\nINSERT INTO proxy_t VALUES (1);\nCOMMIT;\n' | direct "$URL" 2>&1)
rc=$?
check "before COMMIT: psql fails (rc $rc)" between "$rc" 1 3
check "before COMMIT: connection error reported" grep -qi "connection" <<<"$out"
check "before COMMIT: row not committed" eq "$(count_id 1)" 0
wait_conns "$C" 0
check "before COMMIT: proxied connection closed" eq "$(stat_of "$C" conns)" 0

check "arm after COMMIT" eq "$(ctl "$C" 'arm after COMMIT')" ok
out=$(printf 'BEGIN;\nINSERT INTO proxy_t VALUES (2);\nCOMMIT;\n' | direct "$URL" 2>&1)
rc=$?
check "after COMMIT: psql fails (rc $rc)" between "$rc" 1 3
check "after COMMIT: connection error reported" grep -qi "connection" <<<"$out"
check "after COMMIT: row committed" eq "$(count_id 2)" 1

ctl "$C" 'arm before COMMIT' >/dev/null
out=$("$PIPELINE_CLIENT" "$NOSSL" txn 3)
check "pipelined txn, before COMMIT: connection lost (rc $?)" grep -q "^connlost" <<<"$out"
check "pipelined txn, before COMMIT: row not committed" eq "$(count_id 3)" 0
ctl "$C" 'arm after COMMIT' >/dev/null
out=$("$PIPELINE_CLIENT" "$NOSSL" txn 4)
check "pipelined txn, after COMMIT: connection lost" grep -q "^connlost" <<<"$out"
check "pipelined txn, after COMMIT: row committed" eq "$(count_id 4)" 1

check "arm with count 1" eq "$(ctl "$C" 'arm before ^insert 1')" ok
out=$(printf 'INSERT INTO proxy_t VALUES (5);\nINSERT INTO proxy_t VALUES (6);\n' | direct "$URL" 2>&1)
check "count 1: first INSERT let through" eq "$(count_id 5)" 1
check "count 1: second INSERT dropped" eq "$(count_id 6)" 0

ctl "$C" 'arm before COMMIT' >/dev/null
check "disarm" eq "$(ctl "$C" disarm)" ok
check "disarmed: txn goes through" eq "$("$PIPELINE_CLIENT" "$NOSSL" txn 7 | cut -d' ' -f1)" ok
check "disarmed: row committed" eq "$(count_id 7)" 1
check "anchored pattern skips READ COMMITTED" eq "$(ctl "$C" 'arm before ^COMMIT')" ok
check "anchored: SET ... READ COMMITTED passes" eq \
    "$(direct "$URL" -c 'SET default_transaction_isolation = "read committed"' -c 'show default_transaction_isolation')" \
    "read committed"
ctl "$C" disarm >/dev/null

# ---- (d) kill ----
t0=$(date +%s%N)
direct "$URL" -c 'select pg_sleep(10)' >/dev/null 2>&1 &
k1=$!
direct "$URL" -c 'select pg_sleep(10)' >/dev/null 2>&1 &
k2=$!
wait_conns "$C" 2
sleep 0.2
check "kill" eq "$(ctl "$C" kill)" ok
wait "$k1"
r1=$?
wait "$k2"
r2=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "kill: clients see an error (rc $r1 $r2)" test "$r1" -ne 0 -a "$r2" -ne 0
check "kill: clients return at once (${ms} ms)" between "$ms" 0 3000
check "kill: no connection left" eq "$(stat_of "$C" conns)" 0
check "after kill: new connections work" eq "$(direct "$URL" -c 'select 1')" 1

# A CancelRequest travels through the proxy on a connection of its own.
t0=$(date +%s%N)
out=$("$PIPELINE_CLIENT" "$URL" cancel 300)
ms=$((($(date +%s%N) - t0) / 1000000))
check "cancel through proxy: SQLSTATE 57014" grep -q '^ok ' <<<"$out"
check "cancel: returns soon after the cancel (${ms} ms)" between "$ms" 300 3000

# SIGTERM ends the proxy cleanly.
kill -TERM "$PLAIN_PID"
wait "$PLAIN_PID"
check "SIGTERM: exit status 0" eq "$?" 0

# ---- (e) valgrind: quit with live connections, queued data and faults ----
if [ "${CHECK_VALGRIND:-1}" = 0 ]; then
    echo "skip valgrind (CHECK_VALGRIND=0)"
elif command -v valgrind >/dev/null; then
    VALGRIND=1 start_proxy vg --delay-us 200
    VP=$PORT VC=$CTL VPID=$PID
    check "valgrind: select" eq "$(direct "host=127.0.0.1 port=$VP" -c 'select 3')" 3
    "$PIPELINE_CLIENT" "host=127.0.0.1 port=$VP sslmode=disable" pipeline 10 >/dev/null
    ctl "$VC" 'arm after COMMIT' >/dev/null
    "$PIPELINE_CLIENT" "host=127.0.0.1 port=$VP sslmode=disable" txn 8 >/dev/null
    ctl "$VC" 'arm before COMMIT' >/dev/null
    "$PIPELINE_CLIENT" "host=127.0.0.1 port=$VP sslmode=disable" txn 9 >/dev/null
    direct "host=127.0.0.1 port=$VP" -c 'select pg_sleep(5)' >/dev/null 2>&1 &
    live=$!
    # A reader that never reads: leaves data queued inside the proxy.
    direct "host=127.0.0.1 port=$VP" -c "select repeat('x', 1000) from generate_series(1, 20000)" \
        2>/dev/null | (sleep 4) &
    stuck=$!
    wait_conns "$VC" 2
    sleep 0.5
    check "valgrind: quit" eq "$(ctl "$VC" quit)" ok
    wait "$VPID"
    vrc=$?
    check "valgrind: exit status 0, no errors or leaks (rc $vrc)" eq "$vrc" 0
    if [ "$vrc" -ne 0 ]; then
        cat "$work/vg.vg"
    fi
    wait "$live" 2>/dev/null
    kill "$stuck" 2>/dev/null
    wait "$stuck" 2>/dev/null
else
    fail "valgrind" "not installed"
fi

finish
