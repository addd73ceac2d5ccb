'use strict';
// pgatomic for Node: Sequelize-shaped transactions on the pgatomic C core.
const { Database } = require('./lib/database');
const { Transaction, ISOLATION_LEVELS } = require('./lib/transaction');
const errors = require('./lib/errors');

function connect(connectionString, options) {
  return new Database(connectionString, options);
}

module.exports = {
  connect,
  Database,
  Transaction,
  ISOLATION_LEVELS,
  errors,
  DatabaseError: errors.DatabaseError,
  UniqueConstraintError: errors.UniqueConstraintError,
  ForeignKeyConstraintError: errors.ForeignKeyConstraintError,
  ExclusionConstraintError: errors.ExclusionConstraintError,
  NotNullConstraintError: errors.NotNullConstraintError,
  CheckConstraintError: errors.CheckConstraintError,
  SerializationError: errors.SerializationError,
  DeadlockError: errors.DeadlockError,
  QueryCanceledError: errors.QueryCanceledError,
  ConnectionError: errors.ConnectionError,
  ConnectionAcquireTimeoutError: errors.ConnectionAcquireTimeoutError,
  CommitOutcomeUnknownError: errors.CommitOutcomeUnknownError,
  TransactionError: errors.TransactionError,
};
