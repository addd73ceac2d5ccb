'use strict';
// A `node -r` / `mocha -r` preload: every require('pg') in the process is
// answered by pgatomic/pg, so an ORM's own test suite runs unmodified on it
// (the way sequelize-cockroachdb runs Sequelize's suite on its patches).
// PGA_PRELOAD_STOCK=1 leaves `pg` alone, for the stock count beside ours.
const Module = require('module');
const path = require('path');

if (!process.env.PGA_PRELOAD_STOCK) {
  const ours = require(path.join(__dirname, '..', '..', 'node', 'pg.js'));
  const load = Module._load;
  Module._load = function loadAnsweringPg(request, parent, isMain) {
    if (request === 'pg') return ours;
    return load.call(this, request, parent, isMain);
  };
}
