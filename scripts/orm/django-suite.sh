#!/usr/bin/env bash
# django-suite.sh -- Django's own test suite (tests/runtests.py from the
# sdist of the Django installed in python3) on ENGINE "pgatomic.django",
# beside Django's own PostgreSQL backend on psycopg, on the same server.
#
#   scripts/orm/django-suite.sh [--only pgatomic|stock] [APP ...]
#
# Without APPs: the apps of issue 12.  Prints each backend's counts per app,
# every test psycopg's backend passes and pgatomic's does not (with the
# reason), and ends with pgatomic's `N passed, N failed, N skipped` line;
# exits non-zero when pgatomic's run has a failure.  Uses the server in
# PG* (with none set it starts its own, as the suites do).
#
# Environment: DJANGO_SUITE_DIR  where sdists are downloaded and unpacked
#                                (default out/django-suite; never committed)
#              DJANGO_SUITE_PARALLEL  runtests.py --parallel (default 1)
#              DJANGO_SUITE_OUTCOMES  a directory to keep the outcome files
#                                (stock, pgatomic: one JSON line per test)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/orm/django-suite.sh "$@"
fi

only=""
if [ "${1:-}" = --only ]; then
    only=$2
    shift 2
fi
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(transactions transaction_hooks backends basic select_for_update
    get_or_create queries model_fields expressions aggregation update delete bulk_create)

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    export PIP_BREAK_SYSTEM_PACKAGES=1
fi

# Django itself comes from requirements-dev.txt; the baseline run needs the
# psycopg backend's own requirements (Django's tests/requirements/postgres.txt).
python3 -c 'import django' 2>/dev/null || python3 -m pip install -q -r requirements-dev.txt
if [ "$only" != pgatomic ]; then
    python3 -c 'import psycopg_pool, psycopg_binary' 2>/dev/null \
        || python3 -m pip install -q 'psycopg[binary]' psycopg-pool
fi
bash scripts/install-python-package.sh >/dev/null

version=$(python3 -c 'import django; print(django.__version__)')
dir=${DJANGO_SUITE_DIR:-$ROOT/out/django-suite}
tree=$dir/django-$version
mkdir -p "$dir"
if [ ! -f "$tree/tests/runtests.py" ]; then
    echo "django-suite: fetching the Django $version sdist (its tests/) from PyPI"
    python3 -m pip download -q --no-binary :all: --no-deps "django==$version" -d "$dir"
    tar -xzf "$dir/django-$version.tar.gz" -C "$dir"
fi

if [ -n "${DJANGO_SUITE_OUTCOMES:-}" ]; then
    results=$DJANGO_SUITE_OUTCOMES          # kept: one outcome file per backend
    mkdir -p "$results"
else
    results=$(mktemp -d)
    trap 'rm -rf "$results"' EXIT
fi

# run NAME ENGINE: runtests.py on the apps, outcomes into $results/NAME.
run() {
    local name=$1 engine=$2
    echo "==== Django $version on $engine ($(python3 --version 2>&1)): ${apps[*]}"
    : >"$results/$name"
    (
        cd "$tree/tests"
        DJANGO_SUITE_ENGINE=$engine DJANGO_SUITE_RESULTS=$results/$name \
            PYTHONPATH=$ROOT/scripts/orm${PYTHONPATH:+:$PYTHONPATH} \
            python3 runtests.py --settings django_suite_settings --noinput \
            --parallel "${DJANGO_SUITE_PARALLEL:-1}" "${apps[@]}"
    ) 2>&1 || true      # its failures are counted from the outcome file
}

reports=()
if [ "$only" != pgatomic ]; then
    run stock django.db.backends.postgresql
    reports+=("psycopg=$results/stock")
fi
if [ "$only" != stock ]; then
    run pgatomic pgatomic.django
    reports+=("pgatomic=$results/pgatomic")
fi
echo "==== summary (passed / failed / skipped / expected failures)"
python3 scripts/orm/django_suite_report.py "${reports[@]}" | tee "$results/report"
# Green only when the last run passed something and failed nothing.
[[ $(tail -n 1 "$results/report") =~ :\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]] \
    && [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[2]}" = 0 ]
