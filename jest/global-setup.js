'use strict';
// jest's globalSetup: one throwaway PostgreSQL for the whole run (see node/jest.js).
module.exports = require('../node/jest').globalSetup;
