# sqlalchemy-lib.sh -- sourced by scripts/suite-sqlalchemy.sh (CI) and
# scripts/orm/sqlalchemy-suite.sh (the comparison with psycopg): SQLAlchemy's
# own test files, a fresh database per run, and pytest's counts.  Expects
# the PG* variables of a running server and the repository as the cwd.

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# sa_sdist: the directory of SQLAlchemy's source distribution matching the
# installed version (its test/ tree is not in the wheel), fetched from PyPI
# once into out/sqlalchemy/.  Prints the path.
sa_sdist() {
    local version dir
    version=$(python3 -c 'import sqlalchemy; print(sqlalchemy.__version__)')
    dir=out/sqlalchemy/sqlalchemy-$version
    if [ ! -f "$dir/test/engine/test_transaction.py" ]; then
        mkdir -p out/sqlalchemy
        python3 -m pip download -q --no-binary :all: --no-deps -d out/sqlalchemy \
            "sqlalchemy==$version" >&2
        tar -xzf "out/sqlalchemy/sqlalchemy-$version.tar.gz" -C out/sqlalchemy
    fi
    echo "$PWD/$dir"
}

# sa_fresh_db NAME: an empty database with the two schemas SQLAlchemy's
# tests use for cross-schema cases.
sa_fresh_db() {
    "$PGBIN/dropdb" --if-exists "$1"
    "$PGBIN/createdb" "$1"
    "$PGBIN/psql" -q -X -d "$1" -c "CREATE SCHEMA test_schema; CREATE SCHEMA test_schema_2"
}

# sa_url DRIVER DB: the URL of the running server for a driver.
sa_url() {
    echo "postgresql+$1://${PGUSER:-postgres}@/$2?host=${PGHOST}&port=${PGPORT:-5432}"
}

# sa_pytest LOG DIR ARGS...: pytest ARGS in DIR, output shown and kept in
# LOG; sets SA_PASSED, SA_FAILED (failures and errors), SA_SKIPPED.
# Returns pytest's status.
sa_pytest() {
    local log=$1 dir=$2 rc=0 summary
    shift 2
    (cd "$dir" && exec python3 -m pytest -p no:cacheprovider -q -rfE --color=no "$@") 2>&1 \
        | tee "$log" || rc=${PIPESTATUS[0]}
    summary=$(grep -E '[0-9]+ (passed|failed|errors?|skipped)|no tests ran' "$log" | tail -n 1 || true)
    SA_PASSED=$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
    SA_FAILED=$(( $(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0) \
                  + $(echo "$summary" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+' || echo 0) ))
    SA_SKIPPED=$(echo "$summary" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
    if [ "$SA_PASSED" = 0 ] && [ "$SA_FAILED" = 0 ]; then
        SA_FAILED=1          # nothing ran: pytest could not start
    fi
    if [ "$rc" != 0 ] && [ "$SA_FAILED" = 0 ]; then
        SA_FAILED=1
    fi
    return "$rc"
}
