#!/usr/bin/env bash
# demo-node.sh -- the Sequelize seed (003) on pgatomic in Node: builds the
# addon if needed, then runs examples/node/seed-003.js against the server
# named by PG* / DATABASE_URL (the demo command supplies a running one).
set -euo pipefail
cd "$(dirname "$0")/.."
# node-gyp must use the installed headers, never download them.
export npm_config_nodedir=/usr
if [ ! -f build/Release/pgatomic.node ] || [ ! -d node_modules/node-addon-api ]; then
    npm install --no-audit --no-fund >&2
fi
exec node examples/node/seed-003.js
