'use strict';
// Database: a lazy pool of sessions, db.query, and the entry points of
// Sequelize's transaction API (managed, unmanaged, nested by nestMode)
// with an AsyncLocalStorage ambient transaction per Database.
const { AsyncLocalStorage } = require('async_hooks');
const { PooledConnection } = require('./connection');
const {
  Transaction, blockFlags, normalizeOptions,
} = require('./transaction');
const { ConnectionError, TransactionError, DatabaseError } = require('./errors');

const INT8_MODES = { string: 0, bigint: 1, number: 2 };

class Pool {
  constructor(db, options) {
    this.db = db;
    this.max = options.max;
    this.idleTimeoutMillis = options.idleTimeoutMillis;
    this.int8Mode = options.int8Mode;
    this.all = new Set();
    this.idle = [];
    this.waiters = [];
    this.closed = false;
  }

  async acquire() {
    if (this.closed) throw new ConnectionError('Database is closed');
    while (this.idle.length > 0) {
      const conn = this.idle.pop();
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      conn.idleTimer = null;
      if (!conn.closed && conn.state().open) return conn;
      this._destroy(conn);
    }
    if (this.all.size < this.max) return this._create();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async _create() {
    const conn = new PooledConnection(this, this.int8Mode);
    this.all.add(conn);
    try {
      await conn.connect(this.db.connectionString);
    } catch (err) {
      this._destroy(conn);
      this._serveWaiter();
      throw err;
    }
    return conn;
  }

  // A broken connection (lost, or left inside a transaction) is destroyed,
  // never handed to the next user.
  release(conn) {
    if (conn.closed) {
      this.all.delete(conn);
      this._serveWaiter();
      return;
    }
    const st = conn.state();
    if (this.closed || conn.broken || !st.open || st.depth !== 0 || st.txnStatus !== 'I' ||
        conn.stack.length > 0) {
      this._destroy(conn);
      this._serveWaiter();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(conn);
      return;
    }
    this.idle.push(conn);
    if (this.idleTimeoutMillis > 0) {
      conn.idleTimer = setTimeout(() => {
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        this._destroy(conn);
      }, this.idleTimeoutMillis);
      // An idle pool must not keep the process alive.
      conn.idleTimer.unref();
    }
  }

  _serveWaiter() {
    if (this.waiters.length === 0 || this.all.size >= this.max) return;
    const waiter = this.waiters.shift();
    if (this.closed) {
      waiter.reject(new ConnectionError('Database is closed'));
      return;
    }
    this._create().then(waiter.resolve, waiter.reject);
  }

  _destroy(conn) {
    conn.close();
    this.all.delete(conn);
  }

  async close() {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionError('Database is closed'));
    const conns = [...this.all];
    await Promise.all(conns.map((c) => c.drained()));
    for (const c of conns) this._destroy(c);
    this.idle = [];
  }
}

let databaseSeq = 0;

class Database {
  constructor(connectionString, options) {
    if (connectionString !== undefined && connectionString !== null &&
        typeof connectionString === 'object' && options === undefined) {
      options = connectionString;
      connectionString = options.connectionString;
    }
    if (connectionString !== undefined && connectionString !== null &&
        typeof connectionString !== 'string') {
      throw new TypeError('connectionString must be a string');
    }
    options = options || {};
    const max = options.max === undefined ? 10 : options.max;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('options.max must be a positive integer');
    const idle = options.idleTimeoutMillis === undefined ? 10000 : options.idleTimeoutMillis;
    if (typeof idle !== 'number' || idle < 0) {
      throw new TypeError('options.idleTimeoutMillis must be a non-negative number');
    }
    const int8 = (options.types && options.types.int8) || 'string';
    if (!Object.prototype.hasOwnProperty.call(INT8_MODES, int8)) {
      throw new TypeError("options.types.int8 must be 'string', 'bigint' or 'number'");
    }
    // Without a string: DATABASE_URL, else libpq's defaults (PG* variables).
    this.connectionString = connectionString || process.env.DATABASE_URL || null;
    this.options = Object.freeze({ max, idleTimeoutMillis: idle, types: { int8 } });
    this._pool = new Pool(this, { max, idleTimeoutMillis: idle, int8Mode: INT8_MODES[int8] });
    this._als = new AsyncLocalStorage();
    this._nestMode = options.nestMode || 'savepoint';
    this._seq = 0;
    this._dbId = ++databaseSeq;
    this._inflight = 0;
    this._inflightWaiters = [];
    this._closing = false;
    this._closed = false;
    this._closePromise = null;
  }

  _nextTransactionId() {
    return ++this._seq;
  }

  get closed() {
    return this._closed;
  }

  // The ambient transaction of this Database in the current async context.
  currentTransaction() {
    return this._als.getStore();
  }

  // Work that close() waits for.
  async _track(fn) {
    if (this._closing) throw new ConnectionError('Database is closed');
    this._inflight++;
    try {
      return await fn();
    } finally {
      this._inflight--;
      if (this._inflight === 0) {
        for (const w of this._inflightWaiters.splice(0)) w();
      }
    }
  }

  async query(sql, params, options) {
    if (typeof sql !== 'string') {
      throw new TypeError(`The "sql" argument must be a string, received ${describe(sql)}`);
    }
    if (sql.includes('\u0000')) {
      throw new TypeError('The "sql" argument must not contain a NUL character');
    }
    if (params !== undefined && params !== null && !Array.isArray(params)) {
      throw new TypeError(`The "params" argument must be an array, received ${describe(params)}`);
    }
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('The "options" argument must be an object');
    }
    const values = params || [];
    let t = options ? options.transaction : undefined;
    if (t === undefined) t = this.currentTransaction();
    if (t) {
      if (!(t instanceof Transaction)) {
        throw new TypeError('options.transaction must be a Transaction');
      }
      if (t.db._closed) throw new ConnectionError('Database is closed');
      try {
        return normalize(await t._query(sql, values, options && options.signal));
      } catch (err) {
        throw withSql(err, sql, values);
      }
    }
    return this._track(async () => {
      const conn = await this._pool.acquire();
      try {
        return normalize(await conn.query(sql, values, options && options.signal));
      } catch (err) {
        throw withSql(err, sql, values);
      } finally {
        this._pool.release(conn);
      }
    });
  }

  // transaction([options,] callback) -> managed; transaction([options]) ->
  // unmanaged, as in Sequelize.
  async transaction(a, b) {
    let options;
    let callback;
    if (typeof a === 'function') {
      callback = a;
    } else {
      options = a;
      callback = b;
      if (a !== undefined && a !== null && typeof a !== 'object') {
        throw new TypeError('"callback" must be a function');
      }
    }
    if (callback !== undefined && typeof callback !== 'function') {
      throw new TypeError('"callback" must be a function');
    }
    const opts = normalizeOptions(options);
    if (callback === undefined) return this._startUnmanaged(opts);
    return this._managed(opts, callback);
  }

  async startUnmanagedTransaction(options) {
    return this._startUnmanaged(normalizeOptions(options));
  }

  // Unmanaged transactions ignore the ambient one: only an explicit
  // { transaction: parent } makes a savepoint (as Sequelize does).
  _startUnmanaged(opts) {
    const parent = opts.transaction || null;
    return this._track(() => this._begin(parent, opts));
  }

  async _managed(opts, callback) {
    let parent = opts.transaction !== undefined ? opts.transaction : this.currentTransaction();
    const mode = opts.nestMode || this._nestMode;
    if (parent && mode === 'separate') parent = null;
    if (parent && mode === 'reuse') {
      assertCompatible(parent, opts);
      if (parent._doneState()) throw finishedParentError(parent);
      return this._als.run(parent, () => callback(parent));
    }
    return this._track(async () => {
      const t = await this._begin(parent || null, opts);
      let result;
      try {
        result = await this._als.run(t, () => callback(t));
      } catch (err) {
        if (!t.finished && !t._ending) {
          try {
            await t.rollback();
          } catch (rollbackError) {
            // The callback's error is the news; the failed rollback is kept
            // beside it (STYLE 2.4: cleanup never hides the news).
            if (err && typeof err === 'object' && !('rollbackError' in err)) {
              try { err.rollbackError = rollbackError; } catch (_) { /* frozen */ }
            }
          }
        }
        throw err;
      }
      // A failed COMMIT rejects with its own error; no ROLLBACK follows.
      if (!t.finished && !t._ending) await t.commit();
      return result;
    });
  }

  async _begin(parent, opts) {
    if (parent) {
      if (!(parent instanceof Transaction)) {
        throw new TypeError('options.transaction must be a Transaction');
      }
      if (parent._doneState()) throw finishedParentError(parent);
      const conn = parent._conn;
      await conn.run(async () => conn.native.enter(blockFlags(opts, true)));
      const t = new Transaction(this, conn, parent, opts);
      conn.stack.push(t);
      return t;
    }
    const conn = await this._pool.acquire();
    try {
      await conn.run(async () => conn.native.enter(blockFlags(opts, false)));
    } catch (err) {
      this._pool.release(conn);
      throw err;
    }
    const t = new Transaction(this, conn, null, opts);
    conn.stack.push(t);
    return t;
  }

  // Waits for queries and managed transactions in flight, then ends every
  // session.  Later calls reject with ConnectionError('Database is closed').
  close() {
    if (this._closePromise) return this._closePromise;
    this._closing = true;
    this._closePromise = (async () => {
      if (this._inflight > 0) {
        await new Promise((resolve) => this._inflightWaiters.push(resolve));
      }
      this._closed = true;
      await this._pool.close();
    })();
    return this._closePromise;
  }

  // Pool facts, for tests and monitoring.
  poolStats() {
    return {
      total: this._pool.all.size,
      idle: this._pool.idle.length,
      waiting: this._pool.waiters.length,
    };
  }
}

function assertCompatible(parent, opts) {
  const po = parent.options;
  if (opts.isolationLevel !== undefined && opts.isolationLevel !== po.isolationLevel) {
    throw new TransactionError(
      `Requested isolation level (${opts.isolationLevel ?? 'unspecified'}) is not compatible with the one of the existing transaction (${po.isolationLevel ?? 'unspecified'})`);
  }
  if (opts.readOnly !== undefined && opts.readOnly !== po.readOnly) {
    throw new TransactionError(
      `Requested a transaction in ${opts.readOnly ? 'read-only' : 'read/write'} mode, which is not compatible with the existing ${po.readOnly ? 'read-only' : 'read/write'} transaction`);
  }
  if (opts.deferrable !== undefined && opts.deferrable !== po.deferrable) {
    throw new TransactionError(
      `Requested a ${opts.deferrable ? 'deferrable' : 'not deferrable'} transaction, which is not compatible with the existing ${po.deferrable ? 'deferrable' : 'not deferrable'} transaction`);
  }
}

function finishedParentError(parent) {
  return new TransactionError(
    `${parent._doneState()} has been called on this transaction(${parent.id}), you can no longer use it.`);
}

// Sequelize's DatabaseError carries the statement and its parameters.
function withSql(err, sql, values) {
  if (err instanceof DatabaseError && err.sql === undefined) {
    err.sql = sql;
    err.parameters = values;
  }
  return err;
}

function normalize(res) {
  if (!res) return { command: null, rowCount: null, rows: [], fields: [] };
  return res;
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `type ${typeof v}`;
}

module.exports = { Database };
