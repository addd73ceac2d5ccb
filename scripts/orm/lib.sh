# scripts/orm/lib.sh -- what the ORM suite scripts share (sourced): one
# throwaway server on 127.0.0.1 with password authentication, a mocha run
# into xunit XML with the stock pg or pgatomic/pg answering require('pg'),
# and the comparison of the two runs.
ORM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# orm_checkout DIR PACKAGE MARKER: DIR's absolute path, once DIR is a
# checkout of the npm package PACKAGE holding the file MARKER; its dev
# dependencies installed (npm install --ignore-scripts) when missing.
orm_checkout() {
    local dir
    dir=$(cd "$1" && pwd)
    if [ "$(node -p "require('$dir/package.json').name" 2>/dev/null)" != "$2" ] \
        || [ ! -f "$dir/$3" ]; then
        echo "not a $2 checkout: $dir" >&2
        return 1
    fi
    [ -d "$dir/node_modules/mocha" ] || (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund >&2)
    echo "$dir"
}

# orm_output NAME: makes $OUT, the results directory ($SUITE_OUT, else a
# temp dir named after NAME).
orm_output() {
    OUT=${SUITE_OUT:-$(mktemp -d "/tmp/$1-suite.XXXXXX")}
    mkdir -p "$OUT"
}

# orm_prepare: the pgatomic addon and pgatomic/pg's dependencies.
orm_prepare() {
    if [ ! -f "$ORM_ROOT/build/Release/pgatomic.node" ] || [ ! -d "$ORM_ROOT/node_modules/pg-pool" ]; then
        (cd "$ORM_ROOT" && npm_config_nodedir=/usr npm install --no-audit --no-fund)
    fi
}

# orm_start_server: a throwaway PostgreSQL listening on 127.0.0.1 too
# (PGTMP_TCP_PORT), stopped when the script exits.
orm_start_server() {
    eval "$(PGTMP_TCP=1 "$ORM_ROOT/scripts/pgtmp" start | grep '^export')"
    trap '"$ORM_ROOT/scripts/pgtmp" stop "$PGTMP_DIR" >/dev/null 2>&1 || true' EXIT
}

# orm_run_mocha NAME DIR [ENV=VALUE...] -- MOCHA_ARGS...: one whole run in
# DIR into $OUT/NAME.xml (its output in $OUT/NAME.log); NAME "stock" keeps
# the stock pg, any other answers require('pg') with pgatomic/pg.
orm_run_mocha() {
    local name=$1 dir=$2 start rc envs=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    [ "$name" = stock ] && envs+=(PGA_PRELOAD_STOCK=1)
    start=$(date +%s)
    set +e
    (cd "$dir" && env "${envs[@]}" npx mocha -r "$ORM_ROOT/scripts/orm/pg-preload.js" \
        --reporter xunit --reporter-options "output=$OUT/$name.xml" "$@") >"$OUT/$name.log" 2>&1
    rc=$?
    set -e
    echo "$name: mocha exited $rc after $(( $(date +%s) - start )) s" | tee -a "$OUT/times"
}

# orm_compare: both counts and every test whose outcome differs.
orm_compare() {
    node "$ORM_ROOT/scripts/orm/compare-xunit.js" "$OUT"/stock.xml "$OUT"/pgatomic.xml
    echo "logs and xunit results: $OUT"
}
