'use strict';
// require('pgatomic/pg'): a drop-in for the `pg` package (API.md section 4).
// Its Client runs on a pgatomic session; Pool is pg-pool bound to it, as pg
// binds pg-pool to its own Client; types is pg-types itself, so parsers set
// through either package are the same ones.
const PgPool = require('pg-pool');
const types = require('pg-types');
const defaults = require('./defaults');
const { Client } = require('./client');
const { DatabaseError } = require('./errors');
const { Result, TypeOverrides } = require('./result');
const { escapeIdentifier, escapeLiteral, prepare } = require('./values');

// pg-pool's Pool with this Client unless options.Client names another
// (pg-pool's own rule).  The name contains "Pool": drizzle recognises a
// pool by it.
class Pool extends PgPool {
  constructor(options) {
    super(options, Client);
  }
}

module.exports = {
  Client,
  Pool,
  types,
  defaults,
  DatabaseError,
  escapeIdentifier,
  escapeLiteral,
  Result,
  TypeOverrides,
  utils: { prepareValue: (value) => prepare(value, defaults), escapeIdentifier, escapeLiteral },
};

// pg.native is null when pg-native is absent; pgatomic/pg has no second
// client (the one it has is already libpq's).
Object.defineProperty(module.exports, 'native', { value: null, enumerable: false });
