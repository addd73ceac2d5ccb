'use strict';
// pgatomic for Node: Sequelize-shaped transactions on the pgatomic C core.
const { Database } = require('./lib/database');
const { Transaction, ISOLATION_LEVELS } = require('./lib/transaction');
const errors = require('./lib/errors');

function connect(connectionString, options) {
  return new Database(connectionString, options);
}

// One assignment per name: the form Node's scanner of CommonJS exports
// reads, so that every name is an ESM named export too
// (`import { connect, UniqueConstraintError } from 'pgatomic'`).
exports.connect = connect;
exports.Database = Database;
exports.Transaction = Transaction;
exports.ISOLATION_LEVELS = ISOLATION_LEVELS;
exports.errors = {
  DatabaseError: errors.DatabaseError,
  UniqueConstraintError: errors.UniqueConstraintError,
  ForeignKeyConstraintError: errors.ForeignKeyConstraintError,
  ExclusionConstraintError: errors.ExclusionConstraintError,
  NotNullConstraintError: errors.NotNullConstraintError,
  CheckConstraintError: errors.CheckConstraintError,
  SerializationError: errors.SerializationError,
  DeadlockError: errors.DeadlockError,
  QueryCanceledError: errors.QueryCanceledError,
  NotSupportedError: errors.NotSupportedError,
  ConnectionError: errors.ConnectionError,
  ConnectionAcquireTimeoutError: errors.ConnectionAcquireTimeoutError,
  CommitOutcomeUnknownError: errors.CommitOutcomeUnknownError,
  TransactionError: errors.TransactionError,
};
exports.DatabaseError = errors.DatabaseError;
exports.UniqueConstraintError = errors.UniqueConstraintError;
exports.ForeignKeyConstraintError = errors.ForeignKeyConstraintError;
exports.ExclusionConstraintError = errors.ExclusionConstraintError;
exports.NotNullConstraintError = errors.NotNullConstraintError;
exports.CheckConstraintError = errors.CheckConstraintError;
exports.SerializationError = errors.SerializationError;
exports.DeadlockError = errors.DeadlockError;
exports.QueryCanceledError = errors.QueryCanceledError;
exports.NotSupportedError = errors.NotSupportedError;
exports.ConnectionError = errors.ConnectionError;
exports.CommitOutcomeUnknownError = errors.CommitOutcomeUnknownError;
exports.TransactionError = errors.TransactionError;
