'use strict';
// The error classes of API.md section 2.3 and the one place that turns a
// core failure (code name + SQLSTATE kind + diag fields, gathered by
// bindings/node/errors.cc) into one of them.  The core names conditions;
// the wording users match on lives here.

class DatabaseError extends Error {
  constructor(message, fields = {}) {
    super(message);
    this.name = new.target.name;
    // Sequelize's field names, plus node-postgres's `code` = SQLSTATE.
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.constraint = fields.constraint;
    this.table = fields.table;
    this.column = fields.column;
    this.schema = fields.schema;
    this.severity = fields.severity;
    this.position = fields.position;
    // The rest of the server's fields, under node-postgres's names.
    this.internalPosition = fields.internalPosition;
    this.internalQuery = fields.internalQuery;
    this.where = fields.where;
    this.dataType = fields.dataType;
    this.file = fields.file;
    this.line = fields.line;
    this.routine = fields.routine;
    this.sql = fields.sql;
    this.parameters = fields.parameters;
    if (fields.cause !== undefined) this.cause = fields.cause;
  }

  // Sequelize exposes the driver's error as `parent` and `original`; here
  // the error is its own driver error.
  get parent() { return this; }
  get original() { return this; }
}

class UniqueConstraintError extends DatabaseError {
  constructor(message, fields = {}) {
    super(message, fields);
    // Sequelize's `fields`: column -> value, read from the server's detail
    // "Key (email)=(a@b.c) already exists."
    this.fields = parseKeyDetail(fields.detail);
  }
}
class ForeignKeyConstraintError extends DatabaseError {}
class ExclusionConstraintError extends DatabaseError {}
class NotNullConstraintError extends DatabaseError {}
class CheckConstraintError extends DatabaseError {}
class SerializationError extends DatabaseError {}
class DeadlockError extends DatabaseError {}
class QueryCanceledError extends DatabaseError {}
// SQLSTATE 0A000: what the engine (COPY) or the server does not support.
class NotSupportedError extends DatabaseError {}

class ConnectionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

class CommitOutcomeUnknownError extends ConnectionError {
  constructor(message, options) {
    super(message, options);
    this.name = 'CommitOutcomeUnknownError';
  }
}

// No session could be had from the pool within acquireTimeoutMillis
// (Sequelize's name for the same condition).
class ConnectionAcquireTimeoutError extends ConnectionError {
  constructor(message, options) {
    super(message, options);
    this.name = 'ConnectionAcquireTimeoutError';
  }
}

class TransactionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'TransactionError';
  }
}

// A statement aborted (AbortSignal) before it was sent: worded as the
// server words a cancel.
function canceledBeforeStart(reason) {
  return new QueryCanceledError('canceling statement due to user request',
    { code: '57014', cause: reason });
}

// work, unless signal aborts first: then a rejection at once, whatever the
// session is doing; work goes on in the background (a cancelled statement,
// a rollback) and its own outcome is dropped.
function settleOnAbort(work, signal) {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(canceledBeforeStart(signal.reason));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(canceledBeforeStart(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    }, (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

function parseKeyDetail(detail) {
  const out = {};
  const m = /^Key \((.*)\)=\((.*)\) already exists\.?$/s.exec(detail || '');
  if (!m) return out;
  const cols = m[1].split(', ');
  const vals = m[2].split(', ');
  if (cols.length !== vals.length) {
    out[m[1]] = m[2];
    return out;
  }
  cols.forEach((c, i) => { out[c] = vals[i]; });
  return out;
}

// pga_kind_name() -> class.  Every kind the core can report is listed, so
// a test can compare this table with the binding's `kinds`.
const KIND_CLASSES = {
  database: DatabaseError,
  data: DatabaseError,
  operational: DatabaseError,
  integrity: DatabaseError,
  internal: DatabaseError,
  programming: DatabaseError,
  not_supported: NotSupportedError,
  unique_violation: UniqueConstraintError,
  foreign_key_violation: ForeignKeyConstraintError,
  not_null_violation: NotNullConstraintError,
  check_violation: CheckConstraintError,
  exclusion_violation: ExclusionConstraintError,
  serialization_failure: SerializationError,
  deadlock_detected: DeadlockError,
  query_canceled: QueryCanceledError,
};

// What each core code becomes when no server error is attached.  Every
// code of PGA_ERRNO_MAP appears (a test checks it against the binding).
const CODE_CLASSES = {
  ESERVER: DatabaseError,
  ECONN: ConnectionError,
  ECOMMITUNKNOWN: CommitOutcomeUnknownError,
  EBROKEN: DatabaseError,
  EMISUSE: TransactionError,
  ENOMEM: Error,
  EDURABLE: TransactionError,
  EINATOMIC: TransactionError,
  ENOATOMIC: TransactionError,
  EOPTIONS: TransactionError,
  ETXNENDED: TransactionError,
  EMANUAL: TransactionError,
  EPARAMCOUNT: DatabaseError,
  EPARAM: TypeError,
  ECLOSED: ConnectionError,
  EBUSY: Error,
  EROLLEDBACK: TransactionError,
  EINTRANS: TransactionError,
  ESAVEPOINT: TransactionError,
  EDECODE: DatabaseError,
  ENOTSUPPORTED: NotSupportedError,
};

// Errors made in a libuv callback have no JS caller on their stack; each
// public entry point gives them the stack of the await that receives them
// (withCallerStack), whose async frames lead back to the user's code.
const kNeedsStack = Symbol('pgatomic.needsStack');

function withCallerStack(err) {
  if (err !== null && typeof err === 'object' && err[kNeedsStack]) {
    err[kNeedsStack] = false;
    Error.captureStackTrace(err, withCallerStack);
  }
  return err;
}

function serverError(info) {
  const Cls = KIND_CLASSES[info.kind] || DatabaseError;
  return new Cls(info.message, {
    code: info.sqlstate,
    detail: info.detail,
    hint: info.hint,
    constraint: info.constraint,
    table: info.table,
    column: info.column,
    schema: info.schema,
    severity: info.severity,
    position: info.position,
    internalPosition: info.internalPosition,
    internalQuery: info.internalQuery,
    where: info.where,
    dataType: info.dataType,
    file: info.file,
    line: info.line,
    routine: info.routine,
  });
}

// The error a failure is the result of (the facts are its, info.seq its
// number), so a front end holding the object raised then can tell.
function causeError(info) {
  const cause = serverError(info);
  if (info.seq !== undefined) {
    Object.defineProperty(cause, 'errorSeq', { value: info.seq, enumerable: false });
  }
  return cause;
}

// Called from C++ (bindings/node/errors.cc) with the facts of one failure.
function makeError(info) {
  let err;
  switch (info.code) {
    case 'ESERVER':
      err = serverError(info);
      break;
    case 'EBROKEN': {
      // The core refused to send: the transaction (or savepoint) already
      // failed.  Word it as PostgreSQL would have, with the first error as
      // the cause, so Sequelize users see the message they know.
      const cause = info.sqlstate ? causeError(info) : undefined;
      err = new DatabaseError(
        'current transaction is aborted, commands ignored until end of transaction block',
        { code: '25P02', cause });
      break;
    }
    case 'EPARAMCOUNT':
      // The server's own words for this mistake (08P01), checked before
      // anything is sent.
      err = new DatabaseError(
        `bind message supplies ${info.givenParams} parameters, but prepared statement "" requires ${info.expectedParams}`,
        { code: '08P01' });
      break;
    case 'EROLLEDBACK': {
      const cause = info.sqlstate ? causeError(info) : undefined;
      err = new TransactionError(
        'Transaction was rolled back by the server: COMMIT was answered with ROLLBACK because an earlier statement failed',
        cause ? { cause } : undefined);
      break;
    }
    case 'EOPTIONS':
      err = new TransactionError(
        'isolationLevel, readOnly and deferrable can only be set on the outermost transaction, not on a nested one (a savepoint)');
      break;
    case 'ETXNENDED':
      err = new TransactionError(
        'COMMIT or ROLLBACK was sent as SQL inside a transaction: use commit() or rollback(); the transaction has ended and cannot be committed');
      break;
    case 'ECOMMITUNKNOWN':
      err = new CommitOutcomeUnknownError(
        `Connection lost while COMMIT was in flight; the transaction may or may not have been committed (${info.message})`);
      break;
    case 'ECONN':
      err = new ConnectionError(info.message);
      if (info.sqlstate) {
        // The server refused the session: its SQLSTATE as node-postgres
        // gives it (3D000 no such database, 28P01 wrong password, ...).
        err.code = info.sqlstate;
        err.severity = info.severity;
        err.detail = info.detail;
        err.hint = info.hint;
      }
      break;
    case 'ENOTSUPPORTED':
      err = new NotSupportedError(info.message, { code: '0A000' });
      break;
    default: {
      const Cls = CODE_CLASSES[info.code] || Error;
      err = new Cls(info.message);
    }
  }
  err.errno = info.errno;
  // The core's code name ("ECONN"), for the pool and for tests; not
  // enumerable so it stays out of printed errors.
  Object.defineProperty(err, 'coreCode', { value: info.code, enumerable: false });
  Object.defineProperty(err, kNeedsStack, { value: true, writable: true, enumerable: false });
  // The core's number for this very error (not for a failure it is the
  // cause of), so an outcome naming it can hand back this object.
  if (info.seq !== undefined && info.facts !== 'cause') {
    Object.defineProperty(err, 'errorSeq', { value: info.seq, enumerable: false });
  }
  return err;
}

module.exports = {
  DatabaseError,
  UniqueConstraintError,
  ForeignKeyConstraintError,
  ExclusionConstraintError,
  NotNullConstraintError,
  CheckConstraintError,
  SerializationError,
  DeadlockError,
  QueryCanceledError,
  NotSupportedError,
  ConnectionError,
  CommitOutcomeUnknownError,
  TransactionError,
  KIND_CLASSES,
  CODE_CLASSES,
  makeError,
  canceledBeforeStart,
  ConnectionAcquireTimeoutError,
  settleOnAbort,
  withCallerStack,
};
