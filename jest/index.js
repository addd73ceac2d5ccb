'use strict';
// require('pgatomic/jest'): see node/jest.js.
module.exports = require('../node/jest');
