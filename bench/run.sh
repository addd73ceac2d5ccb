#!/usr/bin/env bash
# bench/run.sh -- the pgatomic benchmark, one command:
#
#   bash bench/run.sh
#
# 1. installs the peer libraries into bench/.peers/ (a Python venv and a
#    node prefix of their own, never the package's dependencies), plus
#    pgatomic itself into that venv and the Node addon at the repo root;
# 2. builds libpgatomic, the C clients and the loopback proxy;
# 3. starts one throwaway PostgreSQL (scripts/pgtmp) and runs every
#    (client x shape): tps over the unix socket, round trips per transaction
#    through the counting proxy, tps through the proxy with 0.5 ms added
#    each way, peak RSS; then pgatomic's memory per connection/transaction;
# 4. writes bench/results/results.json, docs/benchmarks.md and
#    docs/benchmarks.png.
#
# Knobs (environment):
#   BENCH_SECONDS=0.8      seconds per unix-socket run of a cell ...
#   BENCH_REPEAT=3         ... run this many times (the median counts)
#   BENCH_DELAY_SECONDS=0.8  seconds per cell through the 0.5 ms proxy
#   BENCH_DELAY_US=500     delay the proxy adds in each direction
#   BENCH_DELAY_REPEAT=1   rounds of the delayed runs (median; pipeline mode: 3)
#   BENCH_RT_TXNS=100      transactions counted for round trips per transaction
#   BENCH_CLIENTS=...      comma list to run a subset (default: all)
#   BENCH_SHAPES=...       comma list of shapes (default: all)
#   BENCH_SKIP_INSTALL=1   reuse the peers in bench/.peers as they are (pgatomic
#                          itself is rebuilt from this checkout every run)
#   BENCH_MEM_BLOCKS=100000  blocks for the RSS-growth check (0 skips it)
#   BENCH_LOOP_ROWS=1000000  rows of the SELECT whose event-loop hold, read
#   BENCH_LOOP_REPEAT=3      time and peak RSS are measured beside pg
#                            (bench/results/loop-delay.json)
#   BENCH_LOOP_CLIENTS=...   its clients (pg, pgatomic, pg-query-stream,
#                            pgatomic-stream, pgatomic-pg-query-stream)
#   BENCH_STREAM_ROWS=10000000  rows each streaming client then reads once
#                            (peak RSS; 0 skips it)
#
# ORM modes: `bash bench/run.sh django` runs bench/orm.py instead: the
# seeds' Django code on Django's psycopg backend and on pgatomic.django
# (round trips, tps at BENCH_DELAY_US each way and over the socket) and
# rewrites only that section of docs/benchmarks.md; `bash bench/run.sh
# sqlalchemy` does the same for SQLAlchemy's ORM on postgresql+psycopg and
# postgresql+pgatomic (insert, transfer, begin_nested, a failing
# begin_nested caught, empty).  `bash bench/run.sh
# node-orms` runs bench/orm_node.py: Sequelize, knex, Kysely, drizzle,
# TypeORM and Prisma on the stock pg and on pgatomic/pg (round trips, tps
# at BENCH_DELAY_US each way; BENCH_ORMS, BENCH_SHAPES narrow it) and
# rewrites the section "orm:node".  `bash bench/run.sh loop-delay` runs
# only bench/node/loop-delay.js (BENCH_LOOP_*, BENCH_STREAM_ROWS) and
# rewrites only the event-loop and streaming section.
#
# Pipeline mode: `bash bench/run.sh pipeline` runs only the pipelined
# transactions (c/py/node-pgatomic-pipe) beside psycopg's pipeline mode and
# the other peers on insert, transfer and nested (BENCH_CLIENTS and
# BENCH_SHAPES narrow it further), into bench/results/pipeline.json, and
# rewrites only the section notes:pipeline of docs/benchmarks.md.
#
# stream mode: `bash bench/run.sh stream` runs bench/python/stream.py:
# reading BENCH_STREAM_ROWS (1000000) rows in Python, pgatomic's stream()
# and execute() beside psycopg's stream(), fetchall() and server-side
# cursor, the clients taking turns (BENCH_STREAM_REPEAT, 3;
# BENCH_STREAM_CLIENTS narrows them), then BENCH_STREAM_BIG_ROWS
# (10000000; 0 skips it) through pgatomic's stream() for its peak RSS;
# writes bench/results/stream.json and rewrites only the section
# "notes:stream-python" of docs/benchmarks.md.
#
# Prepared statements: `bash bench/run.sh prepare` runs bench/prepare.py:
# c-, py- and node-pgatomic with the default prepare threshold and with
# PGA_PREPARE_THRESHOLD=0, interleaved (BENCH_CLIENTS, BENCH_SHAPES default
# insert,transfer, BENCH_REPEAT 5, BENCH_SECONDS 2) and rewrites only the
# section "notes:prepare" of docs/benchmarks.md.
#
# Node's per-call cost: `bash bench/run.sh node-cost` runs only
# c-pgatomic, node-pgatomic, node-pg, node-pg-native and aio-asyncpg on
# insert and transfer (BENCH_CLIENTS, BENCH_SHAPES narrow or widen it) into
# bench/results/node-cost.json.
#
# asyncio mode: `bash bench/run.sh asyncio` runs bench/harness_asyncio.py:
# pgatomic's asyncio API beside asyncpg and psycopg's AsyncConnection, 1 and
# 16 tasks (BENCH_TASKS), over the socket, at BENCH_DELAY_US each way and
# round trips through the proxy; writes bench/results/asyncio.json and
# docs/benchmarks-asyncio.md (bench/report_asyncio.py).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
PEERS=$BENCH/.peers
OUT=$BENCH/.peers/bin
cd "$ROOT"

log() { printf 'bench: %s\n' "$*" >&2; }

install_peers() {
    local only=${1:-}
    mkdir -p "$PEERS"
    if [ ! -x "$PEERS/venv/bin/python" ]; then
        log "creating the peers' Python venv in bench/.peers/venv"
        python3 -m venv "$PEERS/venv"
    fi
    local py=$PEERS/venv/bin/python
    log "installing Python peers (psycopg[binary], Django, SQLAlchemy, matplotlib, asyncpg)"
    "$py" -m pip install --quiet --upgrade pip setuptools wheel >/dev/null
    "$py" -m pip install --quiet 'psycopg[binary]' Django SQLAlchemy matplotlib asyncpg
    [ "$only" != python ] || return 0

    log "installing Node peers (pg, pg-promise, knex, sequelize, postgres, kysely, drizzle, typeorm, prisma) into bench/.peers/node"
    mkdir -p "$PEERS/node"
    [ -f "$PEERS/node/package.json" ] || echo '{"name":"pgatomic-bench-peers","private":true}' >"$PEERS/node/package.json"
    # postgres@3: postgres.js 4 is an ES module only, which the CommonJS
    # client (bench/node/node-postgres-js.js) cannot require().
    npm install --silent --no-audit --no-fund --prefix "$PEERS/node" pg pg-promise knex sequelize postgres@3 \
        kysely drizzle-orm typeorm reflect-metadata @prisma/adapter-pg @prisma/client-engine-runtime >/dev/null
    # pg-native (pg.native, the node-pg-native client) compiles its libpq addon
    # with node-gyp against the system libpq and Node's headers in /usr; a
    # failed build only skips that client.  The bench installs it, CI never.
    log "installing pg-native into bench/.peers/node (node-gyp, system libpq)"
    npm_config_nodedir=/usr npm install --silent --no-audit --no-fund --prefix "$PEERS/node" pg-native >/dev/null \
        || log "WARNING: pg-native did not build; node-pg-native will be skipped"
}

# pgatomic itself is what is measured, so it is built from this checkout on
# every run, BENCH_SKIP_INSTALL or not (that knob skips only the peers):
# a copy installed by an earlier run would measure older code.
install_pgatomic() {
    local only=${1:-}
    local py=$PEERS/venv/bin/python
    if [ "$only" != node ] && [ -x "$py" ]; then
        log "installing pgatomic (Python) from this checkout into the peers' venv"
        "$py" -m pip uninstall --quiet --yes pgatomic >/dev/null 2>&1 || true
        if ! "$py" -m pip install --quiet --no-build-isolation --no-deps "$ROOT"; then
            log "WARNING: pgatomic (Python) did not install; py-pgatomic will be skipped"
        fi
    fi
    [ "$only" != python ] || return 0
    log "building the pgatomic Node addon from this checkout"
    local npm_args=(install --silent --no-audit --no-fund)
    [ -d node_modules/node-addon-api ] && npm_args=(run install --silent)
    if ! npm_config_nodedir=/usr npm "${npm_args[@]}" >/dev/null; then
        log "WARNING: the pgatomic Node addon did not build; node-pgatomic will be skipped"
        return 1
    fi
}

build() {
    log "building libpgatomic and the C clients"
    mkdir -p "$OUT"
    rm -f "$OUT"/c-* "$OUT/pgproxy"
    local pginc pglib
    pginc=$(pg_config --includedir)
    pglib=$(pg_config --libdir)
    local cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -I"$pginc" -Icore/include)
    # A failed build skips that client (the report says so); it does not
    # stop the run.
    cc "${cflags[@]}" -o "$OUT/c-naive" bench/c/c-naive.c -L"$pglib" -lpq \
        || log "WARNING: c-naive did not build"
    cc "${cflags[@]}" -o "$OUT/c-pipelined" bench/c/c-pipelined.c -L"$pglib" -lpq \
        || log "WARNING: c-pipelined did not build"
    # A build directory of our own, so that out/ is left to its owners.
    if make -s BUILD="$PEERS/build" "$PEERS/build/libpgatomic.a" >/dev/null; then
        cc "${cflags[@]}" -o "$OUT/c-pgatomic" bench/c/c-pgatomic.c "$PEERS/build/libpgatomic.a" \
            -L"$pglib" -lpq || log "WARNING: c-pgatomic did not build"
        cc "${cflags[@]}" -DBENCH_PIPELINE -o "$OUT/c-pgatomic-pipe" bench/c/c-pgatomic.c \
            "$PEERS/build/libpgatomic.a" -L"$pglib" -lpq || log "WARNING: c-pgatomic-pipe did not build"
    else
        log "WARNING: libpgatomic did not build; c-pgatomic will be skipped"
    fi
    if [ -f tests/proxy/pgproxy.c ] \
        && cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -o "$OUT/pgproxy" tests/proxy/pgproxy.c 2>"$OUT/pgproxy.log"; then
        log "proxy: tests/proxy/pgproxy.c"
    else
        rm -f "$OUT/pgproxy"
        log "proxy: tests/proxy/pgproxy.c missing or not building; using bench/proxy.py"
    fi
}

case ${1:-} in
django | sqlalchemy)
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers python
    install_pgatomic python
    build
    export BENCH_ROOT=$ROOT
    log "starting a throwaway PostgreSQL and running the $1 ORM benchmark"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/orm.py "$1"
    exit 0
    ;;
loop-delay)
    # Only the Node addon and pg (the package's devDependency, or the
    # peers' copy when present) are needed.
    install_pgatomic node || exit 1
    log "event-loop hold of one large SELECT, pgatomic beside pg (bench/node/loop-delay.js)"
    scripts/pgtmp run -- node bench/node/loop-delay.js --rows "${BENCH_LOOP_ROWS:-1000000}" \
        --repeat "${BENCH_LOOP_REPEAT:-3}" \
        --clients "${BENCH_LOOP_CLIENTS:-pg,pgatomic,pg-query-stream,pgatomic-stream,pgatomic-pg-query-stream}" \
        --stream-rows "${BENCH_STREAM_ROWS:-10000000}"
    python3 bench/report.py --loop-delay
    exit 0
    ;;
stream)
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers python
    install_pgatomic python
    log "starting a throwaway PostgreSQL and reading large results from Python (bench/python/stream.py)"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/python/stream.py \
        --rows "${BENCH_STREAM_ROWS:-1000000}" --big-rows "${BENCH_STREAM_BIG_ROWS:-10000000}" \
        --repeat "${BENCH_STREAM_REPEAT:-3}" \
        ${BENCH_STREAM_CLIENTS:+--clients "$BENCH_STREAM_CLIENTS"}
    python3 bench/report.py --stream
    exit 0
    ;;
asyncio)
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers python
    install_pgatomic python
    build
    export BENCH_ROOT=$ROOT
    log "starting a throwaway PostgreSQL and running the asyncio benchmark"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/harness_asyncio.py
    "$PEERS/venv/bin/python" bench/report_asyncio.py
    log "done: bench/results/asyncio.json, docs/benchmarks-asyncio.md"
    exit 0
    ;;
pipeline)
    # Pipelined transactions beside the peers at 0.5 ms each way (issue 17):
    # only these cells, into bench/results/pipeline.json and the section
    # notes:pipeline of docs/benchmarks.md.
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers
    install_pgatomic
    build
    export BENCH_ROOT=$ROOT BENCH_RESULTS_NAME=pipeline.json BENCH_MEM_BLOCKS=-1
    # The delayed runs decide the target: interleaved rounds, median.
    export BENCH_DELAY_REPEAT=${BENCH_DELAY_REPEAT:-3}
    export BENCH_CLIENTS=${BENCH_CLIENTS:-c-naive,c-pipelined,c-pgatomic,c-pgatomic-pipe,py-pgatomic,py-pgatomic-pipe,py-dbapi-pipe,py-psycopg,py-psycopg-pipe,node-pgatomic,node-pgatomic-pipe,node-pg,node-postgres-js}
    export BENCH_SHAPES=${BENCH_SHAPES:-insert,transfer,nested}
    log "starting a throwaway PostgreSQL and running the pipeline cells"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/harness.py
    python3 bench/report.py --pipeline
    log "done: bench/results/pipeline.json, docs/benchmarks.md (notes:pipeline)"
    exit 0
    ;;
prepare)
    # pgatomic's own clients only: C (built here), Python (the peers'
    # venv) and Node (the addon at the repo root).
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers python
    install_pgatomic || exit 1
    build
    export BENCH_ROOT=$ROOT
    log "starting a throwaway PostgreSQL: prepared statements on and off (bench/prepare.py)"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/prepare.py
    exit 0
    ;;
node-cost)
    # Node's per-call cost (issue 17): pgatomic-Node beside pgatomic-C and
    # the Node and asyncio peers, insert and transfer, into
    # bench/results/node-cost.json; docs/benchmarks.md's section
    # notes:node-cost is written by hand from it.
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers
    install_pgatomic
    build
    export BENCH_ROOT=$ROOT BENCH_RESULTS_NAME=node-cost.json BENCH_MEM_BLOCKS=-1
    export BENCH_CLIENTS=${BENCH_CLIENTS:-c-pgatomic,node-pgatomic,node-pg,node-pg-native,aio-asyncpg}
    export BENCH_SHAPES=${BENCH_SHAPES:-insert,transfer}
    log "starting a throwaway PostgreSQL and running the node-cost cells"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/harness.py
    log "done: bench/results/node-cost.json"
    exit 0
    ;;
node-orms)
    [ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers
    install_pgatomic
    build
    export BENCH_ROOT=$ROOT
    log "starting a throwaway PostgreSQL and running the Node ORM table"
    scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/orm_node.py
    exit 0
    ;;
esac

[ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || install_peers
install_pgatomic
build

export BENCH_ROOT=$ROOT
log "starting a throwaway PostgreSQL and running the benchmark"
scripts/pgtmp run -- "$PEERS/venv/bin/python" bench/harness.py "$@"
log "event-loop hold of one large SELECT, pgatomic beside pg (bench/node/loop-delay.js)"
scripts/pgtmp run -- node bench/node/loop-delay.js --rows "${BENCH_LOOP_ROWS:-1000000}" \
    --repeat "${BENCH_LOOP_REPEAT:-3}" \
    --clients "${BENCH_LOOP_CLIENTS:-pg,pgatomic,pg-query-stream,pgatomic-stream,pgatomic-pg-query-stream}" \
    --stream-rows "${BENCH_STREAM_ROWS:-10000000}" || log "WARNING: bench/node/loop-delay.js failed"
log "writing docs/benchmarks.md and docs/benchmarks.png"
MPLBACKEND=Agg "$PEERS/venv/bin/python" bench/report.py
log "done: bench/results/results.json, docs/benchmarks.md, docs/benchmarks.png"
