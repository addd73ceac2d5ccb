#!/usr/bin/env bash
# suite-python.sh -- build and install the Python package (C core + binding),
# then run pytest on tests/python against the server in PG*/DATABASE_URL
# (with neither set it starts its own).  Prints pytest's output and ends
# with ONE plain line `N passed, N failed`; exits non-zero on any failure,
# and when no test ran at all.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}${PGHOST:-}" ]; then
    exec scripts/pgtmp run -- bash scripts/suite-python.sh "$@"
fi

python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest || true
if ! bash scripts/install-python-package.sh; then
    echo "0 passed, 1 failed"
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
# -p no:cacheprovider: no .pytest_cache in the tree; -rfE: name what failed.
# Arguments name the tests to run (make faults-long does); none: all of them.
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tests/python)
python3 -m pytest "${targets[@]}" -p no:cacheprovider -rfE -q --color=no 2>&1 \
    | tee "$log" || rc=${PIPESTATUS[0]}

# Translate pytest's last line ("3 failed, 160 passed, 1 skipped in 2.1s",
# "2 errors", "no tests ran") into the one line the test command reads.
summary=$(grep -E '(passed|failed|error|errors|no tests ran)' "$log" | tail -n 1 || true)
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' | head -n 1 || true; }
passed=$(count passed); passed=${passed:-0}
failed=$(count failed); failed=${failed:-0}
errors=$(count 'errors?'); errors=${errors:-0}
failed=$((failed + errors))
if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
    failed=1        # no tests ran, or pytest could not even start
fi
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
    failed=1        # pytest failed without saying why in its summary
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
