#!/usr/bin/env bash
# sqlalchemy-suite.sh -- SQLAlchemy's suites on postgresql+pgatomic beside
# SQLAlchemy's own psycopg dialect, on this machine, and the counts side by
# side:
#   - the dialect compliance suite (tests/sqlalchemy, run as external
#     dialects run it) with tests/sqlalchemy/requirements.py, which states
#     PostgreSQL's facts for both drivers alike;
#   - the same suite with SQLAlchemy's default SuiteRequirements (what a
#     dialect gets that declares nothing; the research's 916/58/469 for
#     psycopg was taken this way), from a copy of the layout in out/orm/defaults;
#   - SQLAlchemy's test/engine/test_transaction.py + test/orm/test_transaction.py
#     from its source distribution, with --dburi.
# Every run gets a fresh database.  Tests that pass for one driver and not
# the other, and tests collected for only one, are listed by name.
#
#   bash scripts/orm/sqlalchemy-suite.sh        (starts a throwaway server)
#
# The drivers are installed into a venv of their own (out/orm/venv):
# SQLAlchemy at requirements-dev.txt's version, psycopg[binary], pytest and
# this checkout's pgatomic.  CI runs the pgatomic half (scripts/suite-sqlalchemy.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/orm/sqlalchemy-suite.sh "$@"
fi

venv=out/orm/venv
if [ ! -x "$venv/bin/python3" ]; then
    python3 -m venv "$venv"
fi
export PATH=$PWD/$venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install -q --upgrade pip setuptools wheel
python3 -m pip install -q "$(grep -i '^sqlalchemy' requirements-dev.txt)" 'psycopg[binary]' pytest
python3 -m pip install -q --no-build-isolation --no-deps --force-reinstall .
. scripts/orm/sqlalchemy-lib.sh

out=out/orm/logs
mkdir -p "$out"
sdist=$(sa_sdist)
# The compliance suite once more with SQLAlchemy's default requirements:
# the same layout, its setup.cfg naming SuiteRequirements (the plugin reads
# the class from setup.cfg after the command line, so --requirements cannot).
defaults=out/orm/defaults
mkdir -p "$defaults"
cp tests/sqlalchemy/conftest.py tests/sqlalchemy/test_suite.py "$defaults"/
sed 's/^requirement_cls = .*/requirement_cls = sqlalchemy.testing.requirements:SuiteRequirements/' \
    tests/sqlalchemy/setup.cfg >"$defaults/setup.cfg"
declare -A result

# run NAME DRIVER DIR ARGS...: one pytest run in a fresh database.
run() {
    local name=$1 driver=$2 dir=$3 db
    shift 3
    db=${PGDATABASE:-pga}_orm_$(echo "${name}_$driver" | tr -c 'a-z0-9\n' '_')
    sa_fresh_db "$db"
    printf '\n---- %s on %s\n' "$name" "$driver"
    sa_pytest "$out/$name-$driver.log" "$dir" "$@" --dburi "$(sa_url "$driver" "$db")" \
        >/dev/null || true
    tail -n 1 "$out/$name-$driver.log"
    result[$name/$driver]="$SA_PASSED / $SA_FAILED / $SA_SKIPPED"
}

for driver in psycopg pgatomic; do
    run compliance "$driver" tests/sqlalchemy test_suite.py
    run compliance-defaults "$driver" "$defaults" test_suite.py
    run transactions "$driver" "$sdist" test/engine/test_transaction.py test/orm/test_transaction.py
done

# The outcome of each test id in a log ("PASSED", "FAILED", ...), the driver
# suffix pytest adds to class names taken out so both drivers compare.
outcomes() {
    sed -E 's/_postgresql\+[a-z0-9]+_[0-9_]+//g' "$1" \
        | grep -E '^(FAILED|ERROR) ' | sed -E 's/ - .*//' | sort -u
}
collected() {
    (cd "$2" && python3 -m pytest -p no:cacheprovider -q --collect-only "${@:3}" \
        --dburi "$(sa_url "$1" "${PGDATABASE:-pga}_orm_collect")" 2>/dev/null) \
        | sed -E 's/_postgresql\+[a-z0-9]+_[0-9_]+//g' | grep '::' | sort -u
}

printf '\n==== SQLAlchemy %s: passed / failed / skipped\n\n' \
    "$(python3 -c 'import sqlalchemy; print(sqlalchemy.__version__)')"
printf '| suite | psycopg %s | pgatomic |\n|---|---|---|\n' \
    "$(python3 -c 'import psycopg; print(psycopg.__version__)')"
for name in compliance compliance-defaults transactions; do
    printf '| %s | %s | %s |\n' "$name" "${result[$name/psycopg]}" "${result[$name/pgatomic]}"
done

printf '\n==== differences, by test\n'
sa_fresh_db "${PGDATABASE:-pga}_orm_collect"
for name in compliance compliance-defaults transactions; do
    case $name in
        transactions) dir=$sdist args=(test/engine/test_transaction.py test/orm/test_transaction.py) ;;
        compliance-defaults) dir=$defaults args=(test_suite.py) ;;
        *) dir=tests/sqlalchemy args=(test_suite.py) ;;
    esac
    printf '\n%s, failing on one driver only:\n' "$name"
    diff <(outcomes "$out/$name-psycopg.log") <(outcomes "$out/$name-pgatomic.log") \
        | sed -n 's/^< /  psycopg only: /p; s/^> /  pgatomic only: /p' || true
    printf '%s, collected for one driver only:\n' "$name"
    diff <(collected psycopg "$dir" "${args[@]}") <(collected pgatomic "$dir" "${args[@]}") \
        | sed -n 's/^< /  psycopg only: /p; s/^> /  pgatomic only: /p' || true
done
printf '\nlogs: %s\n' "$out"
