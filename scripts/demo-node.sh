#!/usr/bin/env bash
# demo-node.sh -- the Sequelize seed (003) on pgatomic in Node: builds the
# addon if needed, then runs examples/node/seed-003.js (pgatomic's own API)
# and the seed as written on Sequelize with pgatomic/pg
# (examples/node/seed-003-sequelize.js) against the server named by PG* /
# DATABASE_URL (the demo command supplies a running one).
set -euo pipefail
cd "$(dirname "$0")/.."
# node-gyp must use the installed headers, never download them.
export npm_config_nodedir=/usr
if [ ! -f build/Release/pgatomic.node ] || [ ! -d node_modules/node-addon-api ] \
    || [ ! -d node_modules/sequelize ] || [ ! -d node_modules/pg-pool ]; then
    npm install --no-audit --no-fund >&2
fi
node examples/node/seed-003.js
echo
echo "-- seed 003 as written, on Sequelize: dialect: 'postgres', dialectModule: require('pgatomic/pg')"
node examples/node/seed-003-sequelize-setup.js
echo "-- first run: the user and the post commit together"
node examples/node/seed-003-sequelize.js
echo "-- second run: the email is taken, so the transaction rolls back"
node examples/node/seed-003-sequelize.js 2>&1 | grep -E 'Executing|rolled back|SequelizeUniqueConstraintError|duplicate key'
echo "-- what the tables hold"
node examples/node/seed-003-sequelize-setup.js --show
