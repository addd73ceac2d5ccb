'use strict';
// jest's globalTeardown: stops the server jest/global-setup.js started.
module.exports = require('../node/jest').globalTeardown;
