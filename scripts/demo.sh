#!/usr/bin/env bash
# demo.sh -- the README's demo command: install what is missing, build, then
# run each demo against one throwaway PostgreSQL, each in a database of its
# own: the C budget transfer, then the Python and Node demos once they exist.
set -euo pipefail
cd "$(dirname "$0")/.."

export npm_config_nodedir=${npm_config_nodedir:-/usr}
export MAKEFLAGS=${MAKEFLAGS:--j$(nproc)}

heading() { printf '\n==== %s\n' "$*"; }

# demo NAME TITLE CMD...: run one demo in a fresh database; remember failures.
failed=()
demo() {
    local name=$1 title=$2 pgbin
    shift 2
    heading "$title"
    pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    # The subshell keeps the database switch to this demo (and, being an if
    # condition, runs without set -e: hence the explicit exit).
    if ! (
        "$pgbin/createdb" "pga_demo_$name" || exit 1
        export PGDATABASE="pga_demo_$name"
        export DATABASE_URL="postgresql://$PGUSER@/$PGDATABASE?host=$PGHOST&port=$PGPORT"
        "$@"
    ); then
        failed+=("$name")
    fi
}

if [ "${1:-}" = --in-server ]; then
    # Through make, so the demo is built if needed wherever BUILD puts it.
    demo c "C: budget transfer (examples/c/transfer.c)" make -s --no-print-directory demo
    if [ -f scripts/demo-python.sh ]; then
        demo python "Python (scripts/demo-python.sh)" bash scripts/demo-python.sh
    fi
    if [ -f scripts/demo-node.sh ]; then
        demo node "Node (scripts/demo-node.sh)" bash scripts/demo-node.sh
    fi
    heading "done"
    if [ ${#failed[@]} -gt 0 ]; then
        echo "demo failed: ${failed[*]}"
        exit 1
    fi
    echo "every demo ran"
    exit 0
fi

# A failed setup (say, the Node addon not compiling) still lets the other
# demos run; it only makes the exit status non-zero.
setup_rc=0
heading "setup (scripts/setup.sh)"
bash scripts/setup.sh || setup_rc=$?
heading "build (make)"
make
heading "server (scripts/pgtmp)"
scripts/pgtmp run -- bash scripts/demo.sh --in-server
if [ "$setup_rc" != 0 ]; then
    echo "demo: scripts/setup.sh had failed (exit $setup_rc)"
    exit 1
fi
