#!/usr/bin/env bash
# suite-sqlalchemy.sh -- SQLAlchemy on postgresql+pgatomic, the way external
# dialects prove themselves: SQLAlchemy's dialect compliance suite
# (tests/sqlalchemy, unmodified sqlalchemy.testing.suite; also on the asyncio
# dialect postgresql+pgatomic_async) and SQLAlchemy's own
# test/engine/test_transaction.py and test/orm/test_transaction.py from its
# source distribution (fetched from PyPI for the installed version), and
# its test/ext/asyncio on postgresql+pgatomic_async.  Runs
# against the server in PG* (with none set it starts its own), each in a
# fresh database; ends with ONE line `N passed, N failed`.
# scripts/orm/sqlalchemy-suite.sh runs the same against psycopg, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/suite-sqlalchemy.sh "$@"
fi
. scripts/orm/sqlalchemy-lib.sh

if ! python3 -c 'import sqlalchemy' 2>/dev/null || ! bash scripts/install-python-package.sh; then
    echo "SQLAlchemy (requirements-dev.txt) or the pgatomic package is missing"
    echo "0 passed, 1 failed"
    exit 1
fi
base=${PGDATABASE:-pga}_sa
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0

printf '\n---- SQLAlchemy dialect compliance suite (tests/sqlalchemy)\n'
sa_fresh_db "${base}_suite"
sa_pytest "$logs/suite" tests/sqlalchemy test_suite.py --dburi "$(sa_url pgatomic "${base}_suite")" || true
passed=$((passed + SA_PASSED)) failed=$((failed + SA_FAILED))

printf '\n---- SQLAlchemy dialect compliance suite on postgresql+pgatomic_async (asyncio)\n'
sa_fresh_db "${base}_async"
sa_pytest "$logs/async" tests/sqlalchemy test_suite.py \
    --dburi "$(sa_url pgatomic_async "${base}_async")" || true
passed=$((passed + SA_PASSED)) failed=$((failed + SA_FAILED))

printf '\n---- SQLAlchemy test/engine/test_transaction.py test/orm/test_transaction.py\n'
if sdist=$(sa_sdist); then
    sa_fresh_db "${base}_tx"
    sa_pytest "$logs/tx" "$sdist" test/engine/test_transaction.py \
        test/orm/test_transaction.py --dburi "$(sa_url pgatomic "${base}_tx")" || true
    passed=$((passed + SA_PASSED)) failed=$((failed + SA_FAILED))
    printf '\n---- SQLAlchemy test/ext/asyncio on postgresql+pgatomic_async\n'
    sa_fresh_db "${base}_ext_async"
    sa_pytest "$logs/ext_async" "$sdist" test/ext/asyncio \
        --dburi "$(sa_url pgatomic_async "${base}_ext_async")" || true
    passed=$((passed + SA_PASSED)) failed=$((failed + SA_FAILED))
else
    echo "could not fetch SQLAlchemy's source distribution from PyPI"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
