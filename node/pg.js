'use strict';
// require('pgatomic/pg'): see node/lib/pg/index.js.
module.exports = require('./lib/pg');
