#!/usr/bin/env bash
# suite-django.sh -- Django's own test suite (its runtests.py, from the sdist
# of the installed Django) on ENGINE "pgatomic.django", against the server
# in PG* (with none set it starts its own), on the apps of issue 12: the
# transaction apps (transactions, transaction_hooks) and the ORM apps around
# them.  The comparison with Django's psycopg backend on the same apps is
# scripts/orm/django-suite.sh without --only.  Ends with ONE line
# `pgatomic: N passed, N failed, N skipped`; non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/orm/django-suite.sh --only pgatomic
