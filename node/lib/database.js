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
const { canceledBeforeStart } = require('./connection');
const binding = require('./native');

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
    // A db.query() waiting for its session, that others may join.
    this.openGroup = null;
  }

  // No idle session and no room for a new one.
  saturated() {
    return this.idle.length === 0 && this.all.size >= this.max;
  }

  async acquire() {
    if (this.closed) throw new ConnectionError('Database is closed');
    while (this.idle.length > 0) {
      const conn = this.idle.pop();
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      conn.idleTimer = null;
      // A session the server ended while it sat idle (restart,
      // pg_terminate_backend) is replaced (pga_conn_probe reads its FATAL).
      if (!conn.closed && conn.native.probe()) return conn;
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
  // A private field, so console.log(db) and util.inspect never print the
  // password the string may hold.
  #connectionString;

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
    this.#connectionString = connectionString || process.env.DATABASE_URL || null;
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
    this._stats = { attempts: 0, retries: 0 };
  }

  get connectionString() {
    return this.#connectionString;
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
    const signal = options ? options.signal : undefined;
    return this._track(async () => {
      const pool = this._pool;
      // Every session busy: ride with a query that is still waiting for
      // its session, in its batch (one round trip; outside a transaction
      // each statement still commits or fails on its own).
      const group = pool.openGroup;
      if (group && !signal && pool.saturated()) {
        try {
          return normalize(await new Promise((resolve, reject) =>
            group.members.push({ sql, values, resolve, reject })));
        } catch (err) {
          throw withSql(err, sql, values);
        }
      }
      const mine = { members: [] };
      if (!signal) pool.openGroup = mine;
      let conn;
      try {
        conn = await pool.acquire();
      } catch (err) {
        for (const m of mine.members) m.reject(err);
        throw err;
      } finally {
        if (pool.openGroup === mine) pool.openGroup = null;
      }
      // In the order issued: this query first, then those that joined.
      const own = conn.query(sql, values, signal);
      const others = mine.members.map((m) =>
        conn.query(m.sql, m.values).then(m.resolve, m.reject));
      try {
        return normalize(await own);
      } catch (err) {
        throw withSql(err, sql, values);
      } finally {
        await Promise.all(others);
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
    if (callback === undefined && opts.retries !== undefined) {
      throw new TransactionError('retries needs a callback: an unmanaged transaction cannot be re-run');
    }
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
    if (opts.retries > 0 && parent) {
      throw new TransactionError(
        'retries is only allowed on an outermost transaction: a savepoint cannot be re-run on its own');
    }
    if (!(opts.retries > 0)) return this._managedOnce(parent || null, opts, callback, null);
    // Re-run the whole transaction on a failure the core calls retryable
    // (serialization failure, deadlock; never an unknown COMMIT outcome),
    // with full-jitter backoff.  err.attempts says how many ran.
    const base = opts.retryBaseMs !== undefined ? opts.retryBaseMs : 5;
    const cap = opts.retryCapMs !== undefined ? opts.retryCapMs : 250;
    for (let attempt = 1; ; attempt++) {
      const willRetry = (err) => attempt <= opts.retries && isRetryable(err) &&
        !(opts.signal && opts.signal.aborted);
      try {
        const result = await this._managedOnce(null, opts, callback, willRetry);
        this._stats.attempts += attempt;
        return result;
      } catch (err) {
        if (!willRetry(err)) {
          this._stats.attempts += attempt;
          if (err && typeof err === 'object') {
            try { err.attempts = attempt; } catch (_) { /* frozen */ }
          }
          throw err;
        }
        this._stats.retries++;
        const ms = binding.retryDelayMs(attempt, base, cap, Math.floor(Math.random() * 0x100000000));
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      }
    }
  }

  _managedOnce(parent, opts, callback, willRetry) {
    return this._track(async () => {
      const signal = opts.signal;
      if (signal && signal.aborted) throw canceledBeforeStart(signal.reason);
      const t = await this._begin(parent, opts);
      t._willRetry = willRetry;
      let result;
      try {
        result = await this._als.run(t, () => callback(t));
        // Aborted while the callback ran no statement: never commit.
        if (signal && signal.aborted) throw canceledBeforeStart(signal.reason);
      } catch (err) {
        if (!t.finished && !t._ending) {
          t._abortReason = err;
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
      const depth = await conn.run(async () => {
        conn.native.enter(blockFlags(opts, true));
        return conn.native.depth();
      });
      const t = new Transaction(this, conn, parent, opts, depth);
      conn.stack.push(t);
      return t;
    }
    const conn = await this._pool.acquire();
    let depth;
    try {
      depth = await conn.run(async () => {
        conn.native.enter(blockFlags(opts, false));
        return conn.native.depth();
      });
    } catch (err) {
      this._pool.release(conn);
      throw err;
    }
    const t = new Transaction(this, conn, null, opts, depth);
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

  // Managed transactions given options.retries: attempts run, retries made.
  stats() {
    return { ...this._stats };
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

// The core's rule (pga_retryable) on a failed attempt: its code, and the
// SQLSTATE of the error that broke the block.
function isRetryable(err) {
  if (!err || typeof err !== 'object' || typeof err.errno !== 'number') return false;
  let sqlstate = err.code;
  if (err.coreCode === 'EBROKEN') sqlstate = err.cause && err.cause.code;
  return binding.retryable(err.errno, typeof sqlstate === 'string' ? sqlstate : null);
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
