#!/usr/bin/env bash
# demo-python.sh -- install the Python package and run the seeds' examples
# against the server in PG*/DATABASE_URL (with neither set it starts its
# own), printing what happened to the data: examples/python on pgatomic's
# own API, their asyncio twins in examples/python/aio, then examples/django,
# the seeds' Django code on Django's ORM and transaction API with ENGINE
# "pgatomic.django".
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/demo-python.sh "$@"
fi

bash scripts/install-python-package.sh
(cd /tmp && python3 -c 'import pgatomic._pgatomic')

python3 examples/python/run_all.py
python3 examples/python/aio/run_all.py
python3 examples/django/run_all.py
