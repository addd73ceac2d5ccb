'use strict';
// Errors in node-postgres's shape.  A server error is a DatabaseError
// (pg-protocol's class: `name` is 'error', the server's fields as own
// properties); everything else is a plain Error with pg's wording.  The
// core's failures (bindings/node/errors.cc, node/lib/errors.js) are turned
// into these here, once.

// pg-protocol's field names, in its order.
const FIELDS = ['severity', 'code', 'detail', 'hint', 'position', 'internalPosition',
  'internalQuery', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'file',
  'line', 'routine'];

class DatabaseError extends Error {
  // pg-protocol's signature: (message, length, name); name is the protocol
  // message ('error' or 'notice').
  constructor(message, length, name) {
    super(message);
    this.length = length;
    this.name = name === undefined ? 'error' : name;
  }
}

// pg-native's names for three of the fields, which Sequelize falls back on.
for (const [alias, field] of [['sqlState', 'code'], ['messagePrimary', 'message'],
  ['messageDetail', 'detail']]) {
  Object.defineProperty(DatabaseError.prototype, alias, {
    configurable: true,
    get() { return this[field]; },
  });
}

function serverError(fields, message) {
  const err = new DatabaseError(message, 0, 'error');
  for (const f of FIELDS) err[f] = fields[f] === null ? undefined : fields[f];
  return err;
}

// A connection that ended under a query, worded as pg words it.
function terminated(ending) {
  return new Error(ending ? 'Connection terminated' : 'Connection terminated unexpectedly');
}

// The pg-shaped error for a failure of the pgatomic session.
function fromCore(err) {
  if (!err || typeof err !== 'object') return err;
  switch (err.coreCode) {
    case 'ESERVER':
      return serverError(err, err.message);
    case 'EBROKEN':
    case 'EPARAMCOUNT': {
      // Answered by the core before sending, in the server's own words
      // (25P02 after a failed statement inside a transaction, 08P01 for a
      // wrong number of parameters).
      const e = serverError({ ...err, severity: 'ERROR' }, err.message);
      if (err.cause) e.cause = fromCore(err.cause);
      return e;
    }
    case 'EROLLEDBACK': {
      // COMMIT of a transaction the server had already aborted: the server
      // says ROLLBACK; reported as the error it is.
      const e = serverError({ code: '25P02', severity: 'ERROR' }, err.message);
      if (err.cause) e.cause = fromCore(err.cause);
      return e;
    }
    case 'ECONN':
    case 'ECLOSED':
    case 'ECOMMITUNKNOWN': {
      const e = terminated(false);
      e.cause = err;
      return e;
    }
    default:
      return err;
  }
}

module.exports = { DatabaseError, FIELDS, fromCore, serverError, terminated };
