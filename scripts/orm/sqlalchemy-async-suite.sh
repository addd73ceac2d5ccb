#!/usr/bin/env bash
# sqlalchemy-async-suite.sh -- SQLAlchemy's dialect compliance suite
# (tests/sqlalchemy, unmodified sqlalchemy.testing.suite) on the asyncio
# dialects, side by side: postgresql+pgatomic_async, then SQLAlchemy's own
# postgresql+psycopg_async (the stock driver) on the same machine, each in a
# fresh database.  Prints both counts; exits non-zero if pgatomic's run failed.
# Runs against the server in PG* (with none set it starts its own).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/orm/sqlalchemy-async-suite.sh "$@"
fi
. scripts/orm/sqlalchemy-lib.sh
python3 -c 'import sqlalchemy, greenlet, psycopg' || { echo "needs sqlalchemy, greenlet and psycopg"; exit 1; }
bash scripts/install-python-package.sh
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
base=${PGDATABASE:-pga}_sa_async
results=()
for driver in pgatomic_async psycopg_async; do
    printf '\n---- SQLAlchemy dialect compliance suite on postgresql+%s\n' "$driver"
    sa_fresh_db "${base}_$driver"
    rc=0
    sa_pytest "$logs/$driver" tests/sqlalchemy test_suite.py \
        --dburi "$(sa_url "$driver" "${base}_$driver")" || rc=$?
    results+=("postgresql+$driver: $SA_PASSED passed, $SA_FAILED failed, $SA_SKIPPED skipped")
    [ "$driver" != pgatomic_async ] || ours=$rc
done
printf '\n'
printf '%s\n' "${results[@]}"
[ "$ours" = 0 ]
