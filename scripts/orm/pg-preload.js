'use strict';
// A `node -r` / `mocha -r` preload: `pg` in the process is answered by
// pgatomic/pg, so an ORM's own test suite runs unmodified on it (the way
// sequelize-cockroachdb runs Sequelize's suite on its patches).  Two ways
// in are covered: require('pg') from CommonJS, and the suite's own copy of
// pg by file name, which ES modules reach through pg's esm/index.mjs
// without Module._load (Kysely's tests).
//
// PGA_PRELOAD_STOCK=1 keeps the stock pg, for the count beside ours.
// PGA_SUITE_PG (JSON: host, port, user, password, database) points every
// Client and Pool at the throwaway server, for a suite whose settings name a
// fixed one (Kysely's localhost:5434); both drivers get the same override.
const Module = require('module');
const path = require('path');

const stock = Boolean(process.env.PGA_PRELOAD_STOCK);
const at = process.env.PGA_SUITE_PG ? JSON.parse(process.env.PGA_SUITE_PG) : null;

// The suite's own pg, resolved from where the suite runs.
function suitePg() {
  try {
    return require.resolve('pg', { paths: [process.cwd()] });
  } catch (_) {
    return null;
  }
}

function atServer(pg) {
  const over = (config) => ({ ...(config || {}), ...at });
  class Client extends pg.Client {
    constructor(config) {
      super(over(config));
    }
  }
  class Pool extends pg.Pool {
    constructor(config) {
      super(over(config));
    }
  }
  return { ...pg, Client, Pool };
}

function install() {
  const file = suitePg();
  if (stock && !at) return;
  let answer = stock ? require(file) : require(path.join(__dirname, '..', '..', 'node', 'pg.js'));
  if (at) answer = atServer(answer);
  const load = Module._load;
  Module._load = function loadAnsweringPg(request, parent, isMain) {
    if (request === 'pg') return answer;
    return load.call(this, request, parent, isMain);
  };
  if (file) {
    const m = new Module(file, null);
    m.filename = file;
    m.loaded = true;
    m.exports = answer;
    Module._cache[file] = m;
  }
}

install();
