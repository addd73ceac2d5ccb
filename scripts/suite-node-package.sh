#!/usr/bin/env bash
# suite-node-package.sh -- the npm package as a new user gets it.  From a
# clean clone of HEAD (uncommitted changes are not in it), installs pgatomic
# into fresh projects three ways -- by path (`npm install /path/to/clone`),
# by git URL (`npm install git+file:///path/to/clone`) and from the `npm
# pack` tarball -- and in each: require() and a query, ESM named imports of
# every exported name and a query, and `require('pgatomic/jest')`.  The
# tarball's project also type-checks tests/types/*.ts against the installed
# package under `tsc --strict`, and runs every JavaScript example of
# README.md and node/README.md as pasted (each ```js block; a sketch that is
# not meant to run is fenced ```js fragment).  Needs the npm registry (node-addon-api,
# typescript) and a server in PG* / DATABASE_URL (scripts/pgtmp otherwise).
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${PGHOST:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
    exec scripts/pgtmp run -- bash "$0" "$@"
fi
export npm_config_nodedir=${npm_config_nodedir:-/usr}
SERVER_DSN=${DATABASE_URL:-host=${PGHOST:-} port=${PGPORT:-5432}}
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

W=$(mktemp -d /tmp/pga-node-package.XXXXXX)
trap 'rm -rf "$W"' EXIT
passed=0 failed=0
ok() { echo "ok   node-package/$1"; passed=$((passed + 1)); }
fail() { echo "FAIL node-package/$1"; [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/    /'; failed=$((failed + 1)); }
check() {  # check NAME LOG CMD...: run CMD, output to LOG, record ok/FAIL
    local name=$1 log=$2
    shift 2
    if "$@" >"$log" 2>&1; then ok "$name"; else fail "$name" "$log"; fi
}

if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    echo "suite-node-package: the working tree has uncommitted changes; testing HEAD without them"
fi
git clone -q --no-local "$ROOT" "$W/clone" || { echo "0 passed, 1 failed"; exit 1; }

# The names index.d.ts exports as values, for the ESM check.
names=$(node -e '
  const ts = require(process.argv[1]);
  const f = process.argv[2];
  const src = ts.createSourceFile(f, require("fs").readFileSync(f, "utf8"), ts.ScriptTarget.Latest);
  const out = [];
  for (const st of src.statements) {
    if (!(st.modifiers || []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (ts.isClassDeclaration(st) || ts.isFunctionDeclaration(st)) out.push(st.name.text);
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) out.push(d.name.text);
  }
  console.log([...new Set(out)].join(","));' "$ROOT/node_modules/typescript" "$W/clone/node/index.d.ts") \
    || { echo "0 passed, 1 failed"; exit 1; }

# smoke MODE: what every fresh project must do with its installed package.
smoke() {
    local mode=$1 app=$W/app-$1
    cat >"$app/cjs.js" <<'JS'
const pgatomic = require('pgatomic');
require('pgatomic/jest');
const db = pgatomic.connect();
db.query('SELECT 1 AS one').then((r) => {
  if (r.rows[0].one !== 1) throw new Error('bad row');
  console.log('ok');
}).finally(() => db.close());
JS
    check "require_by_$mode" "$app/cjs.log" node "$app/cjs.js"
    cat >"$app/esm.mjs" <<JS
import { ${names//,/, } } from 'pgatomic';
import pgatomic from 'pgatomic';
const values = { ${names//,/, } };
for (const [name, v] of Object.entries(values)) {
  if (v === undefined || v !== pgatomic[name]) throw new Error(\`\${name} is not a named export\`);
}
const db = connect();
const r = await db.query('SELECT 2 AS two');
await db.close();
if (r.rows[0].two !== 2) throw new Error('bad row');
JS
    check "esm_named_imports_by_$mode" "$app/esm.log" node "$app/esm.mjs"
}

# install MODE SPEC: a fresh project, `npm install SPEC`, the addon built.
install() {
    local mode=$1 spec=$2 app=$W/app-$1
    mkdir -p "$app"
    (cd "$app" && npm init -y >/dev/null && npm install "$spec") >"$app/install.log" 2>&1 \
        && (cd "$app" && node -e "require('pgatomic')") >>"$app/install.log" 2>&1
    local rc=$?
    if [ $rc = 0 ]; then ok "install_by_$mode"; smoke "$mode"; else fail "install_by_$mode" "$app/install.log"; fi
    return $rc
}

install path "$W/clone"
install git "git+file://$W/clone"
tarball=$( (cd "$W/clone" && npm pack --silent --pack-destination "$W") 2>"$W/pack.log" | tail -n 1)
if [ -n "$tarball" ] && [ -f "$W/$tarball" ]; then
    listing=$(tar -tzf "$W/$tarball")
    missing=""
    for f in package/LICENSE package/README.md package/binding.gyp package/node/index.d.ts \
             package/bindings/node/build.js package/jest/index.js package/core/include/pgatomic.h \
             package/node/pg.js; do
        grep -qx "$f" <<<"$listing" || missing="$missing $f"
    done
    extra=$(grep -E '^package/(tests|scripts|python|bench)/' <<<"$listing" | head -n 3)
    if [ -z "$missing" ] && [ -z "$extra" ]; then ok pack_holds_what_the_package_needs
    else echo "missing:$missing extra: $extra" >"$W/pack.log"; fail pack_holds_what_the_package_needs "$W/pack.log"; fi
    if install pack "$W/$tarball"; then
        app=$W/app-pack
        # Strict type checks of the fixtures against the installed package.
        mkdir -p "$app/types"
        cp tests/types/accepts.ts tests/types/rejects.ts "$app/types/"
        cat >"$app/types/tsconfig.json" <<'JSON'
{ "compilerOptions": { "strict": true, "noEmit": true, "target": "es2022", "module": "node16",
    "moduleResolution": "node16", "types": ["node"] }, "files": ["accepts.ts", "rejects.ts"] }
JSON
        if (cd "$app" && npm install --save-dev typescript@5 @types/node@20) >"$app/types.log" 2>&1 \
            && (cd "$app" && npx --no-install tsc -p types) >>"$app/types.log" 2>&1; then
            ok types_strict_against_the_installed_package
        else
            fail types_strict_against_the_installed_package "$app/types.log"
        fi
        # README examples, as pasted, against a database holding the tables
        # they name.
        db=pga_readme_$$
        createdb_rc=0
        (cd "$app" && node -e '
          const pgatomic = require("pgatomic");
          (async () => {
            const admin = pgatomic.connect();
            await admin.query(`CREATE DATABASE ${process.argv[1]}`);
            await admin.close();
            const db = pgatomic.connect({ database: process.argv[1] });
            await db.query(`CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
              INSERT INTO accounts VALUES (1, 1000), (2, 1000);
              CREATE TABLE audit (id serial PRIMARY KEY, note text);
              CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE);
              CREATE TABLE posts (id serial PRIMARY KEY, title text)`);
            await db.close();
          })().catch((e) => { console.error(e); process.exit(1); });' "$db") >"$app/readme-db.log" 2>&1 \
            || createdb_rc=$?
        n=0
        for doc in README.md node/README.md; do
            # Each ```js block of the document, in order.
            while IFS= read -r -d '' block; do
                n=$((n + 1))
                # A jest test file (pgatomic/jest) runs under jest; the rest under node.
                if grep -q "require('pgatomic/jest')" <<<"$block"; then
                    file=readme-$n.test.js
                    run=(node "$ROOT/node_modules/jest/bin/jest.js" --config '{"testEnvironment":"node"}' --rootDir . --runTestsByPath "$file")
                else
                    file=readme-$n.js
                    run=(node "$file")
                fi
                printf '%s' "$block" >"$app/$file"
                if [ $createdb_rc = 0 ] && (cd "$app" && DATABASE_URL="" PGDATABASE=$db PGATOMIC_TEST_DSN="$SERVER_DSN" "${run[@]}") \
                    >"$app/readme-$n.log" 2>&1; then
                    ok "readme_example_${n}_runs_as_pasted ($doc)"
                else
                    cat "$app/readme-db.log" >>"$app/readme-$n.log"
                    fail "readme_example_${n}_runs_as_pasted ($doc)" "$app/readme-$n.log"
                fi
            done < <(awk '/^```js$/{on=1; buf=""; next} /^```/{if(on){printf "%s%c", buf, 0}; on=0; next} on{buf=buf $0 "\n"}' "$doc")
        done
        [ $n -gt 0 ] || fail "readme_examples_found" /dev/null
    fi
else
    fail pack_holds_what_the_package_needs "$W/pack.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
