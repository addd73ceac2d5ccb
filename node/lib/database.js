'use strict';
// Database: the options, a Pool of sessions, db.query, and Sequelize's
// transaction() signature (the transactions themselves are transaction.js's)
// with an AsyncLocalStorage ambient transaction per Database.
const { AsyncLocalStorage } = require('async_hooks');
const { EventEmitter } = require('events');
const { Pool } = require('./pool');
const {
  Transaction, normalizeOptions, runManaged, runManagedPlain, startUnmanaged, endPrepared, listPrepared,
  kTestTransaction,
} = require('./transaction');
const {
  ConnectionError, TransactionError, DatabaseError, settleOnAbort, withCallerStack,
} = require('./errors');
const { connectionFromOptions, CONNECTION_KEYS } = require('./conninfo');
const { RowStream, checkChunkRows } = require('./stream');
const { checkBusyPollMicros } = require('./session');

const INT8_MODES = { string: 0, bigint: 1, number: 2 };
const OPTION_KEYS = new Set(['max', 'idleTimeoutMillis', 'queryTimeoutMillis', 'acquireTimeoutMillis',
  'prepareThreshold', 'busyPollMicros', 'types', 'nestMode', ...CONNECTION_KEYS]);

// What db.query()'s third argument may hold; any other key is refused.
const QUERY_OPTION_KEYS = new Set(['transaction', 'signal']);
// What db.stream()'s third argument may hold.
const STREAM_OPTION_KEYS = new Set(['transaction', 'batchSize']);

let databaseSeq = 0;

// new Database(connectionString?, options?) or new Database(options), as
// node-postgres's Pool takes them.  A key nobody reads is refused, never
// ignored: a misspelt `hots` must not connect to the default server.
function connectionArguments(connectionString, options) {
  if (connectionString !== undefined && connectionString !== null &&
      typeof connectionString === 'object' && options === undefined) {
    options = connectionString;
    connectionString = undefined;
  }
  if (connectionString !== undefined && connectionString !== null &&
      typeof connectionString !== 'string') {
    throw new TypeError('connectionString must be a string');
  }
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(`Unknown option '${key}' (known: ${[...OPTION_KEYS].join(', ')})`);
    }
  }
  if (options.connectionString !== undefined) {
    if (connectionString !== undefined && connectionString !== null) {
      throw new TypeError('Give the connection string once: as the first argument or as options.connectionString');
    }
    connectionString = options.connectionString;
    if (connectionString !== null && typeof connectionString !== 'string') {
      throw new TypeError('options.connectionString must be a string');
    }
  }
  return { connectionString, options };
}

class Database extends EventEmitter {
  // A private field, so console.log(db) and util.inspect never print the
  // password the string may hold.
  #connectionString;

  constructor(connectionStringArg, optionsArg) {
    super();
    const { connectionString, options } = connectionArguments(connectionStringArg, optionsArg);
    const max = options.max === undefined ? 10 : options.max;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('options.max must be a positive integer');
    const idle = options.idleTimeoutMillis === undefined ? 10000 : options.idleTimeoutMillis;
    if (typeof idle !== 'number' || idle < 0) {
      throw new TypeError('options.idleTimeoutMillis must be a non-negative number');
    }
    const queryTimeout = options.queryTimeoutMillis === undefined ? 0 : options.queryTimeoutMillis;
    if (typeof queryTimeout !== 'number' || !(queryTimeout >= 0) || queryTimeout > 0x7fffffff) {
      throw new TypeError('options.queryTimeoutMillis must be a non-negative number');
    }
    const acquireTimeout = options.acquireTimeoutMillis === undefined ? 0 : options.acquireTimeoutMillis;
    if (typeof acquireTimeout !== 'number' || !(acquireTimeout >= 0)) {
      throw new TypeError('options.acquireTimeoutMillis must be a non-negative number');
    }
    // psycopg's prepare_threshold: runs of a text before it is prepared
    // (0: at the first), null never; the core counts the preparing run.
    const prepare = options.prepareThreshold;
    if (prepare !== undefined && prepare !== null && !(Number.isInteger(prepare) && prepare >= 0)) {
      throw new TypeError('options.prepareThreshold must be a non-negative integer or null');
    }
    // The core's busy poll: microseconds the loop may spin for an answer
    // before it sleeps.
    const busyPoll = checkBusyPollMicros(options.busyPollMicros, 'options.busyPollMicros');
    if (options.types !== undefined) {
      if (options.types === null || typeof options.types !== 'object') {
        throw new TypeError('options.types must be an object');
      }
      for (const key of Object.keys(options.types)) {
        if (key !== 'int8') throw new TypeError(`Unknown option 'types.${key}' (known: types.int8)`);
      }
    }
    const int8 = (options.types && options.types.int8) || 'string';
    if (!Object.prototype.hasOwnProperty.call(INT8_MODES, int8)) {
      throw new TypeError("options.types.int8 must be 'string', 'bigint' or 'number'");
    }
    // Without a string: DATABASE_URL, else libpq's defaults (PG* variables);
    // host, port, user, password, database and ssl given as options win.
    this.#connectionString = connectionFromOptions(
      connectionString || process.env.DATABASE_URL || null, options);
    this.options = Object.freeze({
      max, idleTimeoutMillis: idle, queryTimeoutMillis: queryTimeout,
      acquireTimeoutMillis: acquireTimeout, types: { int8 },
    });
    this._pool = new Pool({
      max,
      idleTimeoutMillis: idle,
      queryTimeoutMillis: Math.ceil(queryTimeout),
      acquireTimeoutMillis: acquireTimeout,
      prepareThreshold: prepare === undefined ? undefined : prepare === null ? 0 : prepare + 1,
      busyPollMicros: busyPoll,
      int8Mode: INT8_MODES[int8],
      connectionString: () => this.#connectionString,
      onNotification: (n) => this._notify(n),
    });
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
    // gid -> { session, t, late }: transactions prepared here, whose hooks
    // wait for commitPrepared() / rollbackPrepared().
    this._prepared = new Map();
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

  // The ambient transaction of this Database in the current async context
  // (under pgatomic/jest, the running test's when no other is ambient).
  currentTransaction() {
    const t = this._als.getStore();
    return t !== undefined ? t : this[kTestTransaction];
  }

  // A NOTIFY read by one of the sessions.  A listener that throws is an
  // uncaught exception, as in any event handler, never the session's.
  _notify(n) {
    try {
      this.emit('notification', n);
    } catch (err) {
      process.nextTick(() => { throw err; });
    }
  }

  // Work that close() waits for.
  async _track(fn) {
    if (this._closing) throw new ConnectionError('Database is closed');
    this._inflight++;
    try {
      return await fn();
    } finally {
      this._untrack();
    }
  }

  _untrack() {
    this._inflight--;
    if (this._inflight === 0) {
      for (const w of this._inflightWaiters.splice(0)) w();
    }
  }

  query(sql, params, options) {
    const p = this._queryWithStack(sql, params, options);
    // In a pipelined transaction a failure also fails the block (its
    // transaction() rejects with it): a promise nobody awaited is no
    // unhandled rejection (docs/pipeline.md).
    let t = options ? options.transaction : undefined;
    if (t === undefined) t = this.currentTransaction();
    if (t && t._conn && t._conn.pipelined) p.catch(noop);
    return p;
  }

  // Normalizing the result and naming the statement in its error here, not
  // in a .then() of _query's, saves a promise per statement (each pays the
  // transactions' AsyncLocalStorage hooks: docs/benchmarks.md, "Node").
  async _queryWithStack(sql, params, options) {
    try {
      return normalize(await this._query(sql, params, options));
    } catch (err) {
      throw withCallerStack(withSql(err, sql, params || []));
    }
  }

  // Returns a promise, or throws (query() turns that into a rejection).
  _query(sql, params, options) {
    checkStatement(sql, params, options, QUERY_OPTION_KEYS, 'query');
    const values = params || [];
    let t = options ? options.transaction : undefined;
    if (t === undefined) t = this.currentTransaction();
    if (t) {
      if (!(t instanceof Transaction)) {
        throw new TypeError('options.transaction must be a Transaction');
      }
      if (t.db._closed) throw new ConnectionError('Database is closed');
      const signal = options ? options.signal : undefined;
      return settleOnAbort(t._query(sql, values, signal), signal);
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
        conn = await pool.acquire({ signal });
      } catch (err) {
        for (const m of mine.members) m.reject(err);
        throw err;
      } finally {
        if (pool.openGroup === mine) pool.openGroup = null;
      }
      // In the order issued: this query first, then those that joined.
      const own = settleOnAbort(conn.query(sql, values, signal), signal);
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

  // The rows of one statement as an async iterator, read from the server a
  // chunk (options.batchSize rows, default 1000) at a time as the loop
  // consumes them: `for await (const row of db.stream(sql, params))`.
  // Rows are decoded as db.query() decodes them.  It runs in the ambient
  // transaction (or options.transaction), else on a session of its own
  // from the pool, held until the last row is read or the loop is left.
  // See stream.js for the rules.
  stream(sql, params, options) {
    checkStatement(sql, params, options, STREAM_OPTION_KEYS, 'stream');
    const chunkRows = checkChunkRows(options ? options.batchSize : undefined, 'options.batchSize');
    const values = params || [];
    let t = options ? options.transaction : undefined;
    if (t === undefined) t = this.currentTransaction();
    if (t && !(t instanceof Transaction)) {
      throw new TypeError('options.transaction must be a Transaction');
    }
    const acquire = t ? () => t._streamLease(sql) : async () => {
      if (this._closing) throw new ConnectionError('Database is closed');
      const session = await this._pool.acquire();
      return { session, release: (s) => this._pool.release(s) };
    };
    return new RowStream(acquire, sql, values, chunkRows);
  }

  // transaction([options,] callback) -> managed; transaction([options]) ->
  // unmanaged, as in Sequelize.  A promise in every case (argument errors
  // reject).  The common managed case returns runManagedPlain's promise
  // itself: an async frame here would cost two promises per transaction.
  transaction(a, b) {
    let opts;
    let callback;
    try {
      if (typeof a === 'function') {
        callback = a;
      } else {
        callback = b;
        if (a !== undefined && a !== null && typeof a !== 'object') {
          throw new TypeError('"callback" must be a function');
        }
      }
      if (callback !== undefined && typeof callback !== 'function') {
        throw new TypeError('"callback" must be a function');
      }
      opts = normalizeOptions(typeof a === 'function' ? undefined : a);
      if (callback === undefined && opts.retries !== undefined) {
        throw new TransactionError('retries needs a callback: an unmanaged transaction cannot be re-run');
      }
      if (callback !== undefined) {
        const plain = runManagedPlain(this, opts, callback);
        if (plain !== undefined) return plain;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this._transaction(opts, callback);
  }

  async _transaction(opts, callback) {
    try {
      if (callback === undefined) return await startUnmanaged(this, opts);
      return await runManaged(this, opts, callback);
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  async startUnmanagedTransaction(options) {
    try {
      return await startUnmanaged(this, normalizeOptions(options));
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  // Two-phase commit: end a prepared transaction (t.prepare(gid)) from any
  // session, this process's or another's; list this database's prepared
  // gids, oldest first.
  async commitPrepared(gid) {
    try {
      return await endPrepared(this, gid, true);
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  async rollbackPrepared(gid) {
    try {
      return await endPrepared(this, gid, false);
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  async listPrepared() {
    try {
      return await listPrepared(this);
    } catch (err) {
      throw withCallerStack(err);
    }
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

  // Managed transactions given options.retries: attempts run, retries
  // made; notifications dropped over the core's bound (PGA_NOTIFY_MAX).
  stats() {
    return { ...this._stats, notificationsDropped: this._pool.notificationsDropped() };
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

// The arguments of db.query() and db.stream(); throws a TypeError.
function checkStatement(sql, params, options, known, what) {
  if (typeof sql !== 'string') {
    throw new TypeError(`The "sql" argument must be a string, received ${describe(sql)}`);
  }
  if (sql.includes('\u0000')) {
    throw new TypeError('The "sql" argument must not contain a NUL character');
  }
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    throw new TypeError(`The "params" argument must be an array, received ${describe(params)}`);
  }
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    for (const key of Object.keys(options)) {
      if (!known.has(key)) {
        throw new TypeError(`Unknown ${what} option '${key}' (known: ${[...known].join(', ')})`);
      }
    }
  }
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

function noop() {}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `type ${typeof v}`;
}

module.exports = { Database };
