'use strict';
// pg's Client on a pgatomic session.  The surface and behaviour are
// node-postgres's (its documentation and tests are the specification);
// underneath, the statements go through the same Session as
// pgatomic.connect()'s, so the core decides what travels and when.
const { EventEmitter } = require('events');
const os = require('os');
const binding = require('../native');
const { Session, kNative, checkBusyPollMicros } = require('../session');
const defaults = require('./defaults');
const { ConnectionParameters } = require('./config');
const { Result, TypeOverrides } = require('./result');
const { prepare, escapeIdentifier, escapeLiteral } = require('./values');
const { fromCore, serverError, terminated } = require('./errors');
const { PortalConnection, wholeSource } = require('./submittable');
const { SessionStream, DEFAULT_CHUNK_ROWS } = require('../stream');

const kSession = Symbol('pgatomic.pg.session');
const NO_PARAMS = [];

function prepareValue(v) {
  return prepare(v, defaults);
}

// An error found before the statement is sent, given as pg gives every
// outcome: after the call that caused it has returned.
function later(cb, err) {
  Promise.resolve().then(() => cb(err));
}

// What the server reports at startup (ParameterStatus), in the order
// PostgreSQL 15 sends it; Sequelize reads server_version and
// standard_conforming_strings from the `parameterStatus` events.
const REPORTED = ['application_name', 'client_encoding', 'DateStyle',
  'default_transaction_read_only', 'in_hot_standby', 'integer_datetimes', 'IntervalStyle',
  'is_superuser', 'server_encoding', 'server_version', 'session_authorization',
  'standard_conforming_strings', 'TimeZone'];

// Client.connection: the object pg's users reach into.  Sequelize listens
// for `parameterStatus` on it while connecting; pg-pool ends a connect that
// takes too long with connection.stream.destroy().
class Connection extends EventEmitter {
  constructor(client) {
    super();
    this.stream = { destroy: (err) => client._abortConnect(err) };
  }
}

class Client extends EventEmitter {
  constructor(config) {
    super();
    const params = new ConnectionParameters(config);
    this.connectionParameters = params;
    this.user = params.user;
    this.database = params.database;
    this.port = params.port;
    this.host = params.host;
    Object.defineProperty(this, 'password', {
      configurable: true, enumerable: false, writable: true, value: params.password,
    });
    this.replication = params.replication;
    const c = (config && typeof config === 'object') ? config : {};
    this._types = new TypeOverrides(c.types);
    this._ending = false;
    this._ended = false;
    this._connecting = false;
    this._connected = false;
    this._connectionError = false;
    this._queryable = true;
    this.connection = new Connection(this);
    this.binary = c.binary || defaults.binary;
    this.processID = null;
    this.secretKey = null;
    this.ssl = params.ssl || false;
    this._connectionTimeoutMillis = c.connectionTimeoutMillis || 0;
    // pgatomic's own option: false sends control statements as they come,
    // one round trip each, as pg does.
    this._sqlControls = c.sqlControls !== false;
    // pgatomic's own option too (Database's busyPollMicros); a Pool passes
    // its config to each Client.
    this._busyPollMicros = checkBusyPollMicros(c.busyPollMicros, 'busyPollMicros');
    this._connectPromise = null;
    this._abort = null;
    this._named = new Map();
    this._txnError = undefined;
    this._unref = false;
    this._submittables = undefined;
    // Statements waiting in _ready (for connect or a submittable): later
    // ones wait behind them.
    this._waiting = 0;
    Object.defineProperty(this, kSession, { value: null, writable: true });
  }

  connect(callback) {
    if (typeof callback === 'function') {
      this._connect().then(() => callback(null, this), (err) => callback(err));
      return undefined;
    }
    return this._connect().then(() => this);
  }

  _connect() {
    if (this._connecting || this._connected || this._ended) {
      return new Promise((resolve, reject) => process.nextTick(() => reject(
        new Error('Client has already been connected. You cannot reuse a client.'))));
    }
    this._connecting = true;
    this._connectPromise = this._open();
    return this._connectPromise;
  }

  async _open() {
    const session = new Session({
      resultMode: binding.RESULT_RAW,
      closedMessage: () => (this._ending ? 'Connection terminated' : 'Connection terminated unexpectedly'),
      runsAlone: mayBeControl,
      busyPollMicros: this._busyPollMicros,
      // LISTEN: while idle, and those read along with a statement's
      // results before that statement settles (pg's order).
      onNotification: ({ channel, payload, processId }) =>
        this.emit('notification', { name: 'notification', processId, channel, payload }),
    });
    this[kSession] = session;
    let timer = null;
    let cleanup = () => {};
    const aborted = new Promise((resolve, reject) => {
      this._abort = (err) => {
        session.close();
        reject(err || new Error('Connection terminated unexpectedly'));
      };
    });
    aborted.catch(() => {});
    if (this._connectionTimeoutMillis > 0) {
      timer = setTimeout(() => this._abortConnect(new Error('timeout expired')),
        this._connectionTimeoutMillis);
      if (timer.unref) timer.unref();
    }
    try {
      const password = await this._password();
      const info = this.connectionParameters.toConninfo(password);
      cleanup = info.cleanup;
      await Promise.race([session.connect(info.conninfo).catch((err) => {
        throw connectError(err);
      }), aborted]);
    } catch (err) {
      this._connecting = false;
      this._connectionError = true;
      this._queryable = false;
      session.close();
      process.nextTick(() => this.emit('end'));
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      this._abort = null;
      cleanup();
    }
    // The engine's SQL control mode: BEGIN, SAVEPOINT, RELEASE, ROLLBACK
    // TO, SET TRANSACTION travel with the next statement instead of alone,
    // and a COMMIT the server answers with ROLLBACK is an error
    // (pgatomic.h "The SQL control mode").
    if (this._sqlControls) session[kNative].setSqlControls(true);
    const facts = session[kNative].serverInfo();
    this.processID = facts.pid;
    for (const name of REPORTED) {
      if (facts.parameters[name] !== undefined) {
        this.connection.emit('parameterStatus',
          { name: 'parameterStatus', parameterName: name, parameterValue: facts.parameters[name] });
      }
    }
    this._connecting = false;
    this._connected = true;
    // Between statements the socket is watched, as pg's is: a session the
    // server ends (restart, pg_terminate_backend) is noticed at once, and
    // the idle client keeps the process alive until end() or unref().
    session[kNative].onIdleEnd(() => this._lost());
    session[kNative].refIdle(!this._unref);
    this.emit('connect');
  }

  // The server ended the session under the client: unusable from now on,
  // which it says with 'error' and 'end', as pg does.
  _lost() {
    if (!this._queryable || this._ending) return;
    this._queryable = false;
    const event = terminated(false);
    process.nextTick(() => {
      this.emit('error', event);
      this._emitEnd();
    });
  }

  // pg-pool's connect timeout, and end() while connecting.
  _abortConnect(err) {
    if (this._abort) this._abort(err);
  }

  // pg accepts a password function (sync or async) called at connect.
  async _password() {
    const pw = this.password;
    if (typeof pw !== 'function') return pw;
    const value = await pw(this.connectionParameters);
    if (value !== undefined && typeof value !== 'string') {
      throw new TypeError('Password must be a string');
    }
    this.connectionParameters.password = value === undefined ? null : value;
    this.password = this.connectionParameters.password;
    return this.password;
  }

  // query(text[, values][, callback]), query({ text, values, rowMode,
  // types, name, query_timeout }[, values][, callback]): a promise unless
  // a callback is given, as in pg.
  query(config, values, callback) {
    if (config === null || config === undefined) {
      throw new TypeError('Client was passed a null or undefined query');
    }
    if (typeof config.submit === 'function') return this._submit(config, values, callback);
    // The config is read, never copied: an ORM passes one per statement.
    const q = typeof config === 'string' ? { text: config } : config;
    let vals = q.values;
    let cb = q.callback;
    if (typeof values === 'function') {
      cb = values;
    } else {
      if (values) vals = values;
      if (callback) cb = callback;
    }
    let promise;
    let done;
    if (cb === undefined) {
      promise = new Promise((resolve, reject) => {
        done = (err, res) => (err ? reject(err) : resolve(res));
      });
    } else if (typeof cb !== 'function') {
      throw new TypeError('callback is not a function');
    } else {
      // The caller's callback throwing is its own uncaught exception (as
      // from pg's socket handler); it must not unwind into the session
      // that settled the statement.
      done = (err, res) => {
        try {
          cb(err, res);
        } catch (e) {
          process.nextTick(() => { throw e; });
        }
      };
    }
    // A client-side read timeout: the statement may still run on the
    // server, its late answer is dropped (pg's query_timeout).
    const timeout = q.query_timeout || this.connectionParameters.query_timeout;
    if (timeout) {
      const inner = done;
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        inner(new Error('Query read timeout'));
      }, timeout);
      done = (err, res) => {
        clearTimeout(timer);
        if (!settled) inner(err, res);
      };
    }
    this._run(q, vals, done);
    return promise;
  }

  // What a statement waits for before it may go: connect() (queries issued
  // before it wait, as pg allows), and a submittable query still being read
  // (pg runs one query at a time).
  async _ready(behindSubmittables) {
    // pg settles every query asynchronously, errors included.
    await null;
    if (behindSubmittables) await this._submittables;
    if (!this._queryable) {
      throw new Error('Client has encountered a connection error and is not queryable');
    }
    if (this._ending) throw new Error('Client was closed and is not queryable');
    if (!this._connected) {
      if (!this._connectPromise) await new Promise((resolve) => this.once('connect', resolve));
      else await this._connectPromise.catch(() => {});
      if (!this._connected) throw new Error('Client has encountered a connection error and is not queryable');
    }
  }

  // Runs a statement and calls done(err, result) later, never before
  // query() has returned (pg's rule, errors included).  On a connected
  // client with nothing ahead of it the statement joins the session's
  // queue at once; otherwise it waits for what is ahead (_ready), and the
  // statements issued after it wait too (_waiting), so the order of the
  // calls stays the order on the wire.  Callbacks rather than async
  // functions: each await would cost promises on every statement of every
  // ORM transaction.
  _run(q, vals, done) {
    if (this._waiting === 0 && this._submittables === undefined && this._connected
        && this._queryable && !this._ending) {
      this._send(q, vals, done);
      return;
    }
    this._waiting++;
    this._ready(true).then(() => {
      this._waiting--;
      this._send(q, vals, done);
    }, (err) => {
      this._waiting--;
      done(err);
    });
  }

  _send(q, vals, done) {
    const { text, name } = q;
    let params;
    try {
      if (typeof text !== 'string') {
        throw new TypeError(`Client was passed a query without text: ${typeof text}`);
      }
      if (name) {
        const known = this._named.get(name);
        if (known !== undefined && known !== text) {
          throw new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
        }
      }
      params = vals === undefined || vals === null ? NO_PARAMS : Array.from(vals, prepareValue);
    } catch (err) {
      later(done, err);
      return;
    }
    this._execute(text, params, (err, raws) => {
      if (err) {
        done(err);
        return;
      }
      if (name) this._named.set(name, text);
      let result;
      try {
        // A type parser may throw: the query then rejects with it.
        result = this._results(q, raws);
      } catch (e) {
        done(e);
        return;
      }
      done(null, result);
    });
  }

  // pg's Result (or, for a script, the array of them) from the raw results.
  _results(q, raws) {
    const types = q.types || this._types;
    const { rowMode } = q;
    if (raws.length === 1) return new Result(rowMode, types)._fill(raws[0]);
    if (raws.length === 0) return new Result(rowMode, types);
    return raws.map((raw) => new Result(rowMode, types)._fill(raw));
  }

  // One statement on the session: cb(null, raw results) or cb(pg error),
  // always later.  params are prepared already (strings, Buffers, null).
  _execute(text, params, cb) {
    const session = this[kSession];
    try {
      checkNul(params);
      // A control statement the engine absorbs touches no socket: a session
      // the server ended a moment ago, whose FATAL the idle watch has not
      // yet seen, would go unnoticed (for a transaction that sent nothing,
      // even by its COMMIT), where pg's write finds out.  A read that never
      // waits finds it.
      if (mayBeControl(text) && !session.probe()) {
        this._lost();
        throw new Error('Client has encountered a connection error and is not queryable');
      }
    } catch (err) {
      later(cb, err);
      return;
    }
    session.send(text, params, undefined, undefined, (raws) => {
      if (this._txnError !== undefined && session.state().txnState === 'I') this._txnError = undefined;
      cb(null, raws);
    }, (err) => {
      let out;
      try {
        out = this._failed(err);
      } catch (e) {
        out = e;
      }
      cb(out);
    });
  }

  // The pg error for a failed statement; a session that ended under it
  // makes the client unusable and says so with 'error' and 'end' events.
  _failed(err) {
    const session = this[kSession];
    const lost = session.closed || !session.state().open;
    const out = this._ending && lost && err && err.coreCode === 'ECLOSED' ? terminated(true) : fromCore(err);
    // The core names the error that aborted the transaction as the cause
    // of a later "COMMIT answered with ROLLBACK"; when this client raised
    // it, the cause is that very object.
    if (err && err.coreCode === 'EROLLEDBACK') {
      const named = err.cause && err.cause.errorSeq;
      if (this._txnError && (named === undefined || named === this._txnErrorSeq)) {
        out.cause = this._txnError;
      }
      this._txnError = undefined;
    } else if (!lost && !this._txnError && session.state().txnState !== 'I') {
      this._txnError = out;
      this._txnErrorSeq = err && err.errorSeq;
    }
    if (lost) this._lost();
    return out;
  }

  // A submittable query (pg-cursor, pg-query-stream): see submittable.js.
  // Returned as it was given, as pg returns it; later queries wait until it
  // has been read or closed.
  _submit(query, values, callback) {
    if (!query.callback) {
      if (typeof values === 'function') query.callback = values;
      else if (callback) query.callback = callback;
    }
    const portal = new PortalConnection(query, (text, params) => this._stream(text, params),
      () => this.end());
    const previous = this._submittables;
    const chain = (async () => {
      await previous;
      try {
        await this._ready(false);
      } catch (err) {
        query.handleError(err, portal);
        return;
      }
      query.submit(portal);
      await portal.finished;
    })();
    this._submittables = chain;
    // Once read, nothing is ahead of the next statement any more.
    const over = () => {
      if (this._submittables === chain) this._submittables = undefined;
    };
    chain.then(over, over);
    return query;
  }

  // The statement of a submittable query as a source of chunks (see
  // submittable.js): streamed, unless it may be a control statement, which
  // the SQL control mode recognises only through query (one whole result).
  _stream(text, params) {
    if (mayBeControl(text)) {
      return wholeSource(new Promise((resolve, reject) => this._execute(text, params, (err, raws) => {
        if (err) reject(err);
        else resolve(raws[raws.length - 1] || { tag: '', fields: [], rows: [] });
      })));
    }
    const session = this[kSession];
    const stream = new SessionStream(session, text, params, DEFAULT_CHUNK_ROWS);
    const settled = (p) => p.then((chunk) => {
      if (chunk.done && this._txnError && session.state().txnState === 'I') this._txnError = undefined;
      return chunk;
    }, (err) => {
      throw this._failed(err);
    });
    let first;
    try {
      checkNul(params);
      first = settled(stream.open());
    } catch (err) {
      first = Promise.reject(err);
    }
    return {
      first,
      next: () => settled(stream.next()),
      close: () => stream.close(),
    };
  }

  _emitEnd() {
    if (this._ended) return;
    this._ended = true;
    this.emit('end');
  }

  end(callback) {
    this._ending = true;
    const session = this[kSession];
    let finished;
    if (!session || this._ended) {
      finished = Promise.resolve();
    } else {
      if (this._connecting) this._abortConnect(terminated(true));
      session.close();
      finished = new Promise((resolve) => process.nextTick(() => {
        this._emitEnd();
        resolve();
      }));
    }
    if (typeof callback === 'function') {
      finished.then(() => callback());
      return undefined;
    }
    return finished;
  }

  // pg's ref()/unref(): whether an idle client keeps the process alive.
  ref() {
    this._unref = false;
    const session = this[kSession];
    if (session && !session.closed) session[kNative].refIdle(true);
  }

  unref() {
    this._unref = true;
    const session = this[kSession];
    if (session && !session.closed) session[kNative].refIdle(false);
  }

  // pg's status letter from the last ReadyForQuery, as the engine holds
  // it (pga_conn_txn_state): a BEGIN still owed counts as begun, what the
  // server would say had BEGIN gone out alone.
  getTransactionStatus() {
    const session = this[kSession];
    if (!session || !this._connected) return null;
    return session.state().txnState;
  }

  setTypeParser(oid, format, parseFn) {
    return this._types.setTypeParser(oid, format, parseFn);
  }

  getTypeParser(oid, format) {
    return this._types.getTypeParser(oid, format);
  }

  escapeIdentifier(str) {
    return escapeIdentifier(str);
  }

  escapeLiteral(str) {
    return escapeLiteral(str);
  }
}

// Statements that may be control statements (their first word), which the
// SQL control mode recognises only alone: never batched with others.
const CONTROL_WORD = /^(?:\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*(?:begin|start|set|savepoint|release|rollback|commit|end|abort|prepare)\b/i;

function mayBeControl(sql) {
  return CONTROL_WORD.test(sql);
}

// pg sends a NUL inside text and the server refuses it; the engine refuses
// it before sending, so the server's error is given here.
function checkNul(params) {
  if (params.some((v) => typeof v === 'string' && v.includes('\u0000'))) {
    throw serverError({ severity: 'ERROR', code: '22021', routine: 'report_invalid_encoding' },
      'invalid byte sequence for encoding "UTF8": 0x00');
  }
}

// libpq's connect failures as pg reports them.  A failure of the socket
// is worded as Node's net module words it, since that is what pg passes on
// ("connect ECONNREFUSED 127.0.0.1:5432", code, errno, syscall, address,
// port); a FATAL from the server during startup becomes a DatabaseError
// with its SQLSTATE (libpq keeps only the text: the code comes from it).
const SOCKET_ERRORS = [
  [/Connection refused/, 'ECONNREFUSED', 'connect'],
  [/No such file or directory/, 'ENOENT', 'connect'],
  [/No route to host/, 'EHOSTUNREACH', 'connect'],
  [/Network is unreachable/, 'ENETUNREACH', 'connect'],
  [/Connection timed out/, 'ETIMEDOUT', 'connect'],
  [/Connection reset by peer/, 'ECONNRESET', 'read'],
];
const CONNECT_STATES = [
  [/password authentication failed/, '28P01'],
  [/database "[^"]*" does not exist/, '3D000'],
  [/role "[^"]*" does not exist/, '28000'],
  [/no pg_hba\.conf entry/, '28000'],
  [/too many clients already|remaining connection slots are reserved/, '53300'],
  [/the database system is (starting up|shutting down|in recovery mode)/, '57P03'],
];

function connectError(err) {
  if (!err || typeof err.message !== 'string') return err;
  if (err.message === 'timeout expired') return new Error('timeout expired');
  const msg = err.message.trim();
  const fatal = /(?:^|\n|: )FATAL:\s+(.*)$/m.exec(msg);
  if (fatal) {
    // The core's SQLSTATE of a refused session when it has one, else the
    // code read from the text.
    const known = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : null;
    const state = known || (CONNECT_STATES.find(([re]) => re.test(fatal[1])) || [])[1];
    if (state) return serverError({ severity: 'FATAL', code: state }, fatal[1].trim());
  }
  // libpq: 'connection to server at "127.0.0.1", port 5432 failed: ...' or
  // 'connection to server on socket "/run/x/.s.PGSQL.5432" failed: ...'.
  const at = /connection to server (?:at "([^"]*)", port (\d+)|on socket "([^"]*)") failed: ([^\n]*)/.exec(msg);
  const sock = at && SOCKET_ERRORS.find(([re]) => re.test(at[4]));
  if (sock) {
    const [, code, syscall] = sock;
    const where = at[3] !== undefined ? at[3] : `${at[1]}:${at[2]}`;
    const out = new Error(`${syscall} ${code} ${where}`);
    out.errno = -(os.constants.errno[code] || 0);
    out.code = code;
    out.syscall = syscall;
    if (at[3] !== undefined) {
      out.address = at[3];
    } else {
      out.address = at[1];
      out.port = Number(at[2]);
    }
    out.cause = err;
    return out;
  }
  const lookup = /could not translate host name "([^"]*)"/.exec(msg);
  if (lookup) {
    const out = new Error(`getaddrinfo ENOTFOUND ${lookup[1]}`);
    Object.assign(out, { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: lookup[1] });
    out.cause = err;
    return out;
  }
  const out = new Error(msg);
  out.cause = err;
  return out;
}

module.exports = { Client, kSession };
