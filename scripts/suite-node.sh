#!/usr/bin/env bash
# suite-node.sh -- the Node test suite (jest, tests/node) against the server
# named by PG* / DATABASE_URL.  Builds the addon if needed, shows jest's
# output, and ends with one line "N passed, N failed"; exits non-zero on
# any failure, and when no test ran at all.
#
# Arguments, if any, go to jest instead of `tests/node` (a file, `-t NAME`):
#   bash scripts/suite-node.sh tests/node/faults.test.js -t fault_between_statements
# Without PG* / DATABASE_URL it starts a throwaway server (scripts/pgtmp).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PGHOST:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
    exec scripts/pgtmp run -- bash "$0" "$@"
fi
export npm_config_nodedir=/usr
# pgatomic/jest (used by some of the tests) makes each file's database here.
export PGATOMIC_TEST_DSN=${PGATOMIC_TEST_DSN:-${DATABASE_URL:-host=$PGHOST port=${PGPORT:-5432}}}
# A dependency added to package.json since the last install (pgatomic/pg's,
# the ORMs its tests run) is installed the same way.
missing=$(node -e '
const p = require("./package.json");
const fs = require("fs");
const all = Object.keys({ ...p.dependencies, ...p.devDependencies });
console.log(all.filter((d) => !fs.existsSync(`node_modules/${d}/package.json`)).join(" "));')
if [ -n "$missing" ]; then
    npm install --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
elif [ ! -f build/Release/pgatomic.node ] || [ -n "$(find bindings/node core/src core/include binding.gyp -newer build/Release/pgatomic.node -print -quit 2>/dev/null)" ]; then
    # Sources changed since the last build: rebuild the addon in place.
    npm run install || { echo "0 passed, 1 failed"; exit 1; }
fi
# The fault-injection proxy the round-trip and fault tests put in front of
# the server (tests/proxy/README.md).
if [ ! -x out/pgproxy ] || [ tests/proxy/pgproxy.c -nt out/pgproxy ]; then
    make out/pgproxy || { echo "0 passed, 1 failed"; exit 1; }
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(tests/node)
node node_modules/jest/bin/jest.js "${args[@]}" --runInBand --colors=false 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
# jest: "Tests:       2 failed, 1 skipped, 30 passed, 33 total"
line=$(grep -E '^Tests:' "$out" | tail -n 1)
passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")
failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
passed=${passed:-0}
failed=${failed:-0}
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    # No test ran (or jest died before counting): that is a failure.
    failed=1
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1   # a suite failed outside any test (syntax error, hook)
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
