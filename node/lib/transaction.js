'use strict';
// Sequelize's Transaction on the core's atomic blocks.  A root Transaction
// is an outermost block on a session of its own from the pool; a nested
// one is a savepoint block on its parent's.  The core decides what SQL
// travels (BEGIN with the first statement, RELEASE with the next one, ...);
// this file keeps the JS objects and the open blocks of each session, the
// hooks, the managed / unmanaged / nested entry points, retries, and
// Sequelize's wording.
const binding = require('./native');
const { kNative } = require('./session');
const { streamOpenError } = require('./stream');
const {
  TransactionError, ConnectionError, canceledBeforeStart, settleOnAbort, withCallerStack,
} = require('./errors');

// Set by pgatomic/jest on a Database: the running test's transaction, the
// ambient one when no other is, and the parent of every transaction begun
// without one, so that nothing a test writes outlives its rollback.
const kTestTransaction = Symbol('pgatomic.testTransaction');

function noop() {}

const ISOLATION_LEVELS = Object.freeze({
  READ_UNCOMMITTED: 'READ UNCOMMITTED',
  READ_COMMITTED: 'READ COMMITTED',
  REPEATABLE_READ: 'REPEATABLE READ',
  SERIALIZABLE: 'SERIALIZABLE',
});

const ISOLATION_FLAGS = {
  'READ UNCOMMITTED': binding.flags.ISO_READ_UNCOMMITTED,
  'READ COMMITTED': binding.flags.ISO_READ_COMMITTED,
  'REPEATABLE READ': binding.flags.ISO_REPEATABLE_READ,
  SERIALIZABLE: binding.flags.ISO_SERIALIZABLE,
};

const NEST_MODES = new Set(['savepoint', 'reuse', 'separate']);

// Every key transaction() reads.  Any other is refused: a misspelt
// `isolationlevel` must not run the block at READ COMMITTED in silence.
const OPTION_KEYS = new Set(['isolationLevel', 'readOnly', 'deferrable', 'transaction', 'nestMode',
  'retries', 'retryBaseMs', 'retryCapMs', 'signal', 'pipeline']);

// Core flags for a block's options; validation of the values happens in
// normalizeOptions, the rule "options only on the outermost block" in the
// core (PGA_EOPTIONS).
function blockFlags(options, nested) {
  let flags = nested ? binding.flags.SAVEPOINT : 0;
  if (options.isolationLevel !== undefined && options.isolationLevel !== null) {
    flags |= ISOLATION_FLAGS[options.isolationLevel];
  }
  if (options.readOnly) flags |= binding.flags.READ_ONLY;
  if (options.deferrable) flags |= binding.flags.DEFERRABLE;
  // Only the transaction's own block decides (the core ignores it elsewhere).
  if (options.pipeline) flags |= binding.flags.PIPELINE;
  return flags;
}

function normalizeOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    throw new TypeError('transaction options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(`Unknown transaction option '${key}' (known: ${[...OPTION_KEYS].join(', ')})`);
    }
  }
  const { isolationLevel, readOnly, deferrable, nestMode } = options;
  if (isolationLevel !== undefined && isolationLevel !== null &&
      !Object.prototype.hasOwnProperty.call(ISOLATION_FLAGS, isolationLevel)) {
    throw new TransactionError(
      `Invalid isolation level: ${String(isolationLevel)} (use Transaction.ISOLATION_LEVELS)`);
  }
  if (nestMode !== undefined && !NEST_MODES.has(nestMode)) {
    throw new TransactionError(
      `Invalid nestMode: ${String(nestMode)} (expected 'savepoint', 'reuse' or 'separate')`);
  }
  const { retries, retryBaseMs, retryCapMs, signal } = options;
  for (const [name, v] of [['retries', retries], ['retryBaseMs', retryBaseMs], ['retryCapMs', retryCapMs]]) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new TypeError(`options.${name} must be a non-negative integer`);
    }
  }
  if (signal !== undefined && signal !== null &&
      (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' ||
       typeof signal.aborted !== 'boolean')) {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  return {
    retries,
    retryBaseMs,
    retryCapMs,
    signal: signal || undefined,
    isolationLevel: isolationLevel === null ? undefined : isolationLevel,
    readOnly: readOnly === undefined ? undefined : Boolean(readOnly),
    deferrable: deferrable === undefined ? undefined : Boolean(deferrable),
    nestMode,
    transaction: options.transaction,
    pipeline: Boolean(options.pipeline),
  };
}

// The open Transactions of a session, innermost last, mirroring the core's
// stack; and the JS side of the core's hook tokens (pga_hook_add_at):
// id -> { kind, fn, t }.
const sessionBlocks = new WeakMap();

function blocksOf(session) {
  let b = sessionBlocks.get(session);
  if (!b) {
    b = { stack: [], hooks: new Map(), hookSeq: 0 };
    sessionBlocks.set(session, b);
  }
  return b;
}

// A hook for the block at depth; the core keeps its token.
function addHook(session, depth, hook) {
  const b = blocksOf(session);
  const id = ++b.hookSeq;
  b.hooks.set(id, hook);
  if (session[kNative].hookAdd(depth, id) !== 0) b.hooks.delete(id);
}

// The hooks the core made ready, in its order: [{ hook, run }].
function takeReadyHooks(session) {
  const b = blocksOf(session);
  const out = [];
  // Every hook the core holds is in b.hooks (addHook): none there, none
  // ready, and no native call per block exit.
  if (b.hooks.size === 0) return out;
  const native = session[kNative];
  for (let next = native.hookNext(); next !== null; next = native.hookNext()) {
    const hook = b.hooks.get(next[1]);
    b.hooks.delete(next[1]);
    if (hook) out.push({ hook, run: next[0] === binding.HOOK_RUN });
  }
  return out;
}

class Transaction {
  constructor(db, conn, parent, options, depth) {
    this.sequelize = db;  // Sequelize's name for the owner
    this.db = db;
    this.parent = parent || null;
    this.id = db._nextTransactionId();
    this.options = Object.freeze({
      isolationLevel: options.isolationLevel,
      readOnly: options.readOnly === true,
      deferrable: options.deferrable === true,
    });
    this.finished = undefined;
    this._conn = conn;
    this._ending = undefined;
    this._startTrips = conn.roundTrips();
    this._endTrips = undefined;
    // The core's depth of this block: hooks registered here belong to it
    // (pga_hook_add_at), and the core decides when they run or drop.
    this._depth = depth;
    // Hooks registered while commit()/rollback() is in flight, when the
    // block has already left the core's stack: settled with its outcome.
    this._late = [];
    // Set by a managed transaction with { retries }: says whether a failure
    // will be retried, in which case this attempt's hooks never run.
    this._willRetry = null;
    this._abortReason = undefined;  // the callback's error, for _willRetry
    this._signal = options.signal;
  }

  static get ISOLATION_LEVELS() {
    return ISOLATION_LEVELS;
  }

  get rootTransaction() {
    return this.parent ? this.parent.rootTransaction : this;
  }

  // Protocol round trips spent by this transaction so far (all of them
  // once finished): BEGIN rides with the first statement, so an empty
  // transaction costs 0 and one INSERT costs 2 (with the COMMIT).
  get roundTrips() {
    const end = this._endTrips !== undefined ? this._endTrips : this._conn.roundTrips();
    return end - this._startTrips;
  }

  // Pipelined, db.query() marks the promise handled (a failure also fails
  // the block, so a promise nobody awaited is no unhandled rejection).
  query(sql, params) {
    return this.db.query(sql, params, { transaction: this });
  }

  // db.stream() in this transaction.  options: { batchSize }.
  stream(sql, params, options) {
    return this.db.stream(sql, params, { ...options, transaction: this });
  }

  // The session for a stream of this transaction (stream.js), refused as a
  // statement would be.
  async _streamLease(sql) {
    if (this._doneState()) throw this._rejectFinished(sql);
    if (this.db._closed) throw new ConnectionError('Database is closed');
    if (this._conn.stream) throw streamOpenError(this, sql);
    const inner = this._innermostError();
    if (inner) {
      inner.sql = sql;
      throw inner;
    }
    return { session: this._conn, release: () => {} };
  }

  // The state a query or a nested block must refuse: this block's, or an
  // ancestor's that is finishing (its descendants go with it).
  _doneState() {
    for (let t = this; t; t = t.parent) {
      if (t.finished) return t.finished;
      if (t._ending) return t._ending;
    }
    return undefined;
  }

  _rejectFinished(sql) {
    const state = this._doneState();
    const err = new TransactionError(
      `${state} has been called on this transaction(${this.id}), you can no longer use it. (The rejected query is attached as the 'sql' property of this error)`);
    err.sql = sql;
    return err;
  }

  // The AbortSignal of the nearest managed transaction given one.
  _abortSignal() {
    for (let t = this; t; t = t.parent) if (t._signal) return t._signal;
    return undefined;
  }

  // The error for work asked of this transaction while a savepoint opened
  // after it is still open (null when it is the innermost block): the
  // savepoint's rollback would undo that work although it was reported
  // done, so it is refused rather than run there.
  _innermostError() {
    if (this._conn[kNative].depth() <= this._depth) return null;
    const { stack } = blocksOf(this._conn);
    const inner = stack.length > 0 ? stack[stack.length - 1] : this;
    const which = inner !== this ? `transaction ${inner.id}` : 'a savepoint';
    return new TransactionError(
      `Transaction ${this.id} cannot run a statement while its savepoint (${which}) is open: ` +
      `a rollback of that savepoint would undo it. Use ${which} (db.query() follows ` +
      'the ambient one), or wait until it ends.');
  }

  // A promise of the statement's result (never throws).
  _query(sql, params, signal) {
    if (this._doneState()) return Promise.reject(this._rejectFinished(sql));
    if (this.db._closed) return Promise.reject(new ConnectionError('Database is closed'));
    const own = this._abortSignal();
    if (own && own.aborted) return Promise.reject(canceledBeforeStart(own.reason));
    if (!signal) signal = own;
    // It would wait behind rows that its own caller is reading.
    if (this._conn.stream) return Promise.reject(streamOpenError(this, sql));
    // Checked when the statement's turn on the session comes, since what
    // is open then, not when it was issued, decides what it belongs to.
    const guard = () => {
      const err = this._innermostError();
      if (err) err.sql = sql;
      return err;
    };
    const conn = this._conn;
    return conn.pipelined ? conn.pipeQuery(sql, params, signal, guard)
      : conn.query(sql, params, signal, guard);
  }

  afterCommit(fn) {
    return this._addHook('commit', fn);
  }

  afterRollback(fn) {
    return this._addHook('rollback', fn);
  }

  afterTransaction(fn) {
    return this._addHook('after', fn);
  }

  _addHook(kind, fn) {
    if (typeof fn !== 'function') {
      throw new TypeError('"callback" must be a function');
    }
    const hook = { kind, fn, t: this };
    // A released savepoint's work now belongs to the nearest open ancestor,
    // so its late hooks wait for that ancestor's outcome.
    let owner = this;
    while ((owner.finished === 'commit' || (owner._ending === 'commit' && !owner.finished)) &&
           owner.parent) {
      owner = owner.parent;
    }
    if (owner.finished) return this;  // finished: ignored, as Sequelize does
    if (owner._ending) {
      owner._late.push(hook);
      return this;
    }
    addHook(owner._conn, owner._depth, hook);
    return this;
  }

  // Register hook (registered on some descendant) with owner's block.
  _addHookTo(owner, hook) {
    while (owner.finished === 'commit' && owner.parent) owner = owner.parent;
    if (owner.finished) return;
    if (owner._ending) owner._late.push(hook);
    else addHook(owner._conn, owner._depth, hook);
  }

  async commit() {
    const state = this.finished || this._ending;
    if (state) {
      throw new TransactionError(
        `Transaction cannot be committed because it has been finished with state: ${state}`);
    }
    try {
      return await this._finish('commit');
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  async rollback() {
    const state = this.finished || this._ending;
    if (state) {
      throw new TransactionError(
        `Transaction cannot be rolled back because it has been finished with state: ${state}`);
    }
    try {
      return await this._finish('rollback');
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  // Two-phase commit: PREPARE TRANSACTION this root transaction under gid
  // (open savepoints of it are released first).  It is then finished with
  // state 'prepared'; its afterCommit hooks wait for db.commitPrepared(gid),
  // its afterRollback ones for db.rollbackPrepared(gid).
  async prepare(gid) {
    const state = this.finished || this._ending;
    if (state) {
      throw new TransactionError(
        `Transaction cannot be prepared because it has been finished with state: ${state}`);
    }
    if (this.parent) {
      throw new TransactionError(
        `Transaction(${this.id}) is a savepoint: only a root transaction can be prepared`);
    }
    checkGid(gid);
    try {
      return await this._finish('prepare', gid);
    } catch (err) {
      throw withCallerStack(err);
    }
  }

  // Leave this block, and first every block opened after it on the same
  // connection (PostgreSQL's rule: RELEASE or ROLLBACK TO of a savepoint
  // also ends the savepoints made after it; COMMIT/ROLLBACK ends them all).
  // The core settles the hooks; after each exit the ready ones are taken
  // (in the core's order) and run here once the session is handed back.
  _finish(how, gid) {
    return new Promise((resolve, reject) => this._finishThen(how, gid, resolve, reject));
  }

  // _finish() driven by callbacks: ok() or fail(err) once the session is
  // handed back and the hooks ran.  The async function it replaces (an
  // await of the queue turn, its own promise, the caller's await of it)
  // cost promises on every transaction, each paying the AsyncLocalStorage
  // hooks (docs/benchmarks.md, "Node's per-call cost"); managedWork calls
  // this directly.
  _finishThen(how, gid, ok, fail) {
    this._ending = how;
    const conn = this._conn;
    // A stream of this session left unread ends here, before the exit
    // waits behind it (its iterator then rejects with why).
    if (conn.stream) {
      conn.stream.close(new TransactionError(
        `The stream was closed unread: its transaction ${this.id} ended (${how}) first.`))
        .then(() => this._exitTurn(how, gid, ok, fail), fail);
      return;
    }
    this._exitTurn(how, gid, ok, fail);
  }

  // One turn of the session's queue: exit the blocks opened after this one,
  // then this one, each through the core.
  _exitTurn(how, gid, ok, fail) {
    const conn = this._conn;
    const groups = [];  // { t, outcome, hooks } in the order blocks ended
    const { stack } = blocksOf(conn);
    // Preparing releases the open savepoints first, as COMMIT would.
    const inner = how === 'prepare' ? 'commit' : how;
    conn._enqueue((done) => {
      let ended = false;
      const end = (err) => {
        if (ended) return;
        ended = true;
        if (err !== undefined) conn._noteError(err);
        done();
        try {
          this._afterExits(groups, err, ok, fail);
        } catch (e) {
          fail(e);
        }
      };
      // A callback that throws ends the turn with that error instead of
      // leaving the queue stuck.
      const guard = (fn) => (v) => {
        try {
          fn(v);
        } catch (err) {
          end(err);
        }
      };
      const idx = stack.indexOf(this);
      const next = () => {
        if (stack.length > idx + 1) {
          const child = stack[stack.length - 1];
          child._ending = child._ending || inner;
          exitBlock(conn, child, inner, guard((outcome) => {
            groups.push(settleExit(conn, child, outcome));
            next();
          }), end);
          return;
        }
        const last = guard((outcome) => {
          groups.push(settleExit(conn, this, outcome));
          end();
        });
        if (how === 'prepare') prepareBlock(conn, this, gid).then(last, end);
        else exitBlock(conn, this, how, last, end);
      };
      if (conn.closed) end(new ConnectionError(conn.closedMessage()));
      else guard(next)();
    });
  }

  // After the exits: hand the session back, run the hooks, then report.
  _afterExits(groups, error, ok, fail) {
    const conn = this._conn;
    if (groups.length === 0) {
      // The session was gone before anything could be sent (the Database
      // was closed under an unmanaged transaction): nothing was committed.
      const { stack } = blocksOf(conn);
      for (const t of stack.splice(stack.indexOf(this))) t.finished = 'rollback';
      this.finished = 'rollback';
    }
    const root = !this.parent;
    if (root) this.db._pool.release(conn);

    const own = groups.length > 0 ? groups[groups.length - 1].outcome : undefined;
    if (own && own.state === 'prepared') {
      // Its hooks wait in the core, on this session, for COMMIT PREPARED;
      // those registered while it was ending wait here.
      this.db._prepared.set(own.gid, { session: conn, t: this, late: groups[groups.length - 1].late });
    }
    const report = (hookError) => {
      if (error) fail(error);
      else if (own && own.error) fail(own.error);
      else if (hookError !== undefined) fail(hookError);
      else ok();
    };
    // A managed transaction that will run again: this attempt's hooks are
    // discarded, whatever their kind.
    const retrying = this._willRetry && own && own.state === 'rollback' &&
      this._willRetry(own.error || this._abortReason);
    if (retrying || !groups.some((g) => g.hooks.length > 0)) {
      report(undefined);
      return;
    }
    dispatchGroups(this.db, groups).then(report, fail);
  }
}

// The hooks of each ended block, in order; resolves with the first error a
// hook threw (the others still run), or undefined.
async function dispatchGroups(db, groups) {
  let hookError;
  for (const g of groups) {
    if (g.hooks.length === 0) continue;
    try {
      await dispatch(db, g);
    } catch (err) {
      if (hookError === undefined) hookError = err;
    }
  }
  return hookError;
}

// Record the outcome of one block's exit and take the hooks the core made
// ready by it: RUN (committed) or DROP (rolled back).
function settleExit(conn, t, outcome) {
  t.finished = outcome.state;
  t._endTrips = outcome.roundTrips !== undefined ? outcome.roundTrips : conn.roundTrips();
  const hooks = takeReadyHooks(conn);
  const late = t._late.splice(0);
  if (outcome.state === 'unknown') return { t, outcome, hooks: [] };
  if (outcome.state === 'prepared') return { t, outcome, hooks, late };
  if (outcome.state === 'commit' && t.parent) {
    // Released: hooks that arrived while it was leaving go to the parent.
    for (const h of late) h.t._addHookTo(t.parent, h);
  } else {
    for (const h of late) hooks.push({ hook: h, run: outcome.state === 'commit' });
  }
  return { t, outcome, hooks };
}

// Sequelize's dispatch: the hooks of the outcome's kind (afterCommit on
// RUN, afterRollback on DROP) in the core's order, then afterTransaction
// ones.  A hook that throws skips the rest of its group.  Hooks run outside
// the finished transaction: a query inside one runs on the nearest
// still-open ancestor, or on its own.
async function dispatch(db, group) {
  if (group.hooks.length === 0) return;
  const first = [];
  const after = [];
  for (const { hook, run } of group.hooks) {
    if (hook.kind === 'after') after.push(hook);
    else if (hook.kind === (run ? 'commit' : 'rollback')) first.push(hook);
  }
  let ambient = group.t.parent;
  while (ambient && ambient._doneState()) ambient = ambient.parent;
  for (const h of first.concat(after)) {
    await db._als.run(ambient || undefined, () => h.fn.call(h.t, h.t));
  }
}

// Exit one block through the core and hand what became of it to
// then(outcome): the core reports the outcome (pga_atomic_outcome), this
// only words it.  The error, if any, is part of the outcome; fail(err) only
// if wording it threw.
function exitBlock(conn, t, how, then, fail) {
  const { stack } = blocksOf(conn);
  const idx = stack.lastIndexOf(t);
  if (idx >= 0) stack.splice(idx, 1);
  const native = conn[kNative];
  // o: the core's outcome as exit() reports it with the exit (one crossing
  // instead of exit, outcome and roundTrips); asked for when it did not.
  const after = (error, o) => {
    let outcome;
    try {
      if (o === undefined) o = native.outcome();
      outcome = outcomeOf(conn, t, o, error, 'committed');
      outcome.roundTrips = o.roundTrips;
    } catch (err) {
      fail(err);
      return;
    }
    then(outcome);
  };
  const failed = how === 'rollback';
  if (conn.pipelined && !t.parent) {
    // A pipelined transaction: its flight travels with COMMIT or ROLLBACK
    // (exitFlight reports the exit's error or null, and the outcome).
    conn.exitFlight(failed, (error, o) => after(error || undefined, o));
    return;
  }
  native.exit(failed, (err, o) => after(err === null ? undefined : err, o));
}

// The core's outcome of an exit (or a prepare), as { state, error }:
// state is Sequelize's 'commit' | 'rollback' | 'unknown' (or 'prepared').
function outcomeOf(conn, t, o, error, insteadOf) {
  if (error && (error.coreCode === 'ECONN' || error.coreCode === 'ECOMMITUNKNOWN')) {
    conn.broken = true;
  }
  // The error that broke it: the very object raised then, if raised here.
  const last = conn.lastError;
  if (o.cause && last && last.errorSeq === o.causeSeq) o.cause = last;
  switch (o.state) {
    case 'unknown':
      return { state: 'unknown', error };
    case 'committed':
    case 'released':
      return { state: 'commit' };
    case 'prepared':
      // o.gid: also that of a PREPARE TRANSACTION given as SQL inside it.
      return { state: 'prepared', gid: o.gid };
    case 'nothing sent':
      return { state: t._ending === 'rollback' ? 'rollback' : 'commit' };
    default:
      break;
  }
  // Rolled back.  A failed COMMIT (deferred constraint, serialization
  // failure) or one the server answered with ROLLBACK reports its error.
  if (error) return { state: 'rollback', error };
  if (!o.unasked) return { state: 'rollback' };
  if (!conn[kNative].state().open) {
    // The session ended inside the block: nothing was committed.
    conn.broken = true;
    const msg = t.db._closed ? 'Database is closed' : 'Connection lost before COMMIT; the transaction was rolled back';
    return { state: 'rollback', error: new ConnectionError(msg, o.cause ? { cause: o.cause } : undefined) };
  }
  // The block had failed (an error the caller caught, or the transaction
  // ended behind it): never report that as success.
  const err = new TransactionError(
    `${t.parent ? 'Savepoint' : 'Transaction'} was rolled back instead of ${t.parent ? 'released' : insteadOf} because a statement inside it failed`,
    o.cause ? { cause: o.cause } : undefined);
  // The core's condition, so retries can ask pga_retryable() about it.
  Object.defineProperty(err, 'coreCode', { value: 'EBROKEN', enumerable: false });
  err.errno = binding.codes.EBROKEN;
  return { state: 'rollback', error: err };
}

// PREPARE TRANSACTION a root block.  A block that failed is rolled back
// (the core refuses to prepare it), never prepared.
async function prepareBlock(conn, t, gid) {
  const native = conn[kNative];
  const { stack } = blocksOf(conn);
  let error;
  try {
    await native.prepare(gid);
  } catch (err) {
    error = err;
  }
  const idx = stack.lastIndexOf(t);
  if (idx >= 0) stack.splice(idx, 1);
  if (native.depth() === t._depth) {
    // Refused before anything was sent: the block must roll back (it
    // failed: EBROKEN), or the session is gone.  Leave it so.
    const broken = error && error.coreCode === 'EBROKEN';
    await native.exit(!broken).catch(() => {});
    const out = outcomeOf(conn, t, native.outcome(), undefined, 'prepared');
    return broken || out.error ? out : { state: out.state, error };
  }
  return outcomeOf(conn, t, native.outcome(), error, 'prepared');
}

function checkGid(gid) {
  if (typeof gid !== 'string' || gid.length === 0 || Buffer.byteLength(gid) > 199) {
    throw new TypeError('"gid" must be a string of 1 to 199 bytes');
  }
}

// db.commitPrepared(gid) / db.rollbackPrepared(gid): from any session of
// the pool.  The hooks of a transaction this Database prepared wait in the
// core on the session that prepared it: handed over and run here.
async function endPrepared(db, gid, commit) {
  checkGid(gid);
  return db._track(async () => {
    const session = await db._pool.acquire();
    let record;
    let hooks = [];
    try {
      await session.run(() => session[kNative][commit ? 'commitPrepared' : 'rollbackPrepared'](gid));
      record = db._prepared.get(gid);
      db._prepared.delete(gid);
      if (record && !record.session.closed) {
        const owner = record.session;
        if (owner !== session) {
          owner[kNative].settlePrepared(gid, commit ? binding.HOOK_RUN : binding.HOOK_DROP);
        }
        hooks = takeReadyHooks(owner);
      }
      if (record) for (const h of record.late) hooks.push({ hook: h, run: commit });
    } finally {
      db._pool.release(session);
    }
    if (record) await dispatch(db, { t: record.t, hooks });
  });
}

// db.listPrepared(): the gids of this database's prepared transactions.
function listPrepared(db) {
  return db._track(async () => {
    const session = await db._pool.acquire();
    try {
      const res = await session.run(() => session[kNative].listPrepared());
      return res.rows.map((r) => r.gid);
    } finally {
      db._pool.release(session);
    }
  });
}

// --- Entry points (Database.transaction() and startUnmanagedTransaction()).

// Unmanaged transactions ignore the ambient one: only an explicit
// { transaction: parent } makes a savepoint (as Sequelize does), or the
// test's transaction under pgatomic/jest.
function startUnmanaged(db, opts) {
  const parent = opts.transaction !== undefined ? opts.transaction : db[kTestTransaction] || null;
  return db._track(() => begin(db, parent || null, opts));
}

// Returns a promise (or throws; Database.transaction awaits it either way).
// Not an async function: returning managedOnce's promise from one would
// add a promise and two microtask hops to every transaction.
function runManaged(db, opts, callback) {
  let parent = opts.transaction !== undefined ? opts.transaction : db.currentTransaction();
  const mode = opts.nestMode || db._nestMode;
  if (parent && mode === 'separate') parent = db[kTestTransaction] || null;
  if (parent && mode === 'reuse') {
    assertCompatible(parent, opts);
    if (parent._doneState()) throw finishedParentError(parent);
    return db._als.run(parent, () => callback(parent));
  }
  if (opts.retries > 0 && parent) {
    throw new TransactionError(
      'retries is only allowed on an outermost transaction: a savepoint cannot be re-run on its own');
  }
  if (!(opts.retries > 0)) return managedOnce(db, parent || null, opts, callback, null);
  return runRetrying(db, opts, callback);
}

async function runRetrying(db, opts, callback) {
  // Re-run the whole transaction on a failure the core calls retryable
  // (serialization failure, deadlock; never an unknown COMMIT outcome),
  // with full-jitter backoff.  err.attempts says how many ran.
  const base = opts.retryBaseMs !== undefined ? opts.retryBaseMs : 5;
  const cap = opts.retryCapMs !== undefined ? opts.retryCapMs : 250;
  for (let attempt = 1; ; attempt++) {
    const willRetry = (err) => attempt <= opts.retries && isRetryable(err) &&
      !(opts.signal && opts.signal.aborted);
    try {
      const result = await managedOnce(db, null, opts, callback, willRetry);
      db._stats.attempts += attempt;
      return result;
    } catch (err) {
      if (!willRetry(err)) {
        db._stats.attempts += attempt;
        if (err && typeof err === 'object') {
          try { err.attempts = attempt; } catch (_) { /* frozen */ }
        }
        throw err;
      }
      db._stats.retries++;
      const ms = binding.retryDelayMs(attempt, base, cap, Math.floor(Math.random() * 0x100000000));
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}

// With opts.signal, an abort rejects at once whatever the session is doing
// (queued for a session, a statement in flight, a hung server); the
// transaction rolls back in the background.
function managedOnce(db, parent, opts, callback, willRetry) {
  return settleOnAbort(managedWork(db, parent, opts, callback, willRetry), opts.signal);
}

// Database.transaction's common case (no retries, no signal, not nested
// by reuse): managedWork's own promise, which the caller awaits directly,
// so the async frames of its errors lead straight to the user's code
// (every promise between costs the AsyncLocalStorage hooks:
// docs/benchmarks.md, "Node's per-call cost").  undefined otherwise.
function runManagedPlain(db, opts, callback) {
  if (opts.retries > 0 || opts.signal) return undefined;
  let parent = opts.transaction !== undefined ? opts.transaction : db.currentTransaction();
  const mode = opts.nestMode || db._nestMode;
  if (parent && mode === 'separate') parent = db[kTestTransaction] || null;
  if (parent && mode === 'reuse') return undefined;
  return managedWork(db, parent || null, opts, callback, null, true);
}

// Tracked for close() as Database._track does, inline: its two extra async
// frames cost promises on every transaction.  With ownStack, the caller
// awaits this very promise: errors get their stack here.
async function managedWork(db, parent, opts, callback, willRetry, ownStack) {
  if (db._closing) throw new ConnectionError('Database is closed');
  db._inflight++;
  try {
    const signal = opts.signal;
    if (signal && signal.aborted) throw canceledBeforeStart(signal.reason);
    let t = begin(db, parent, opts);
    if (!(t instanceof Transaction)) t = await t;
    t._willRetry = willRetry;
    let result;
    try {
      result = await db._als.run(t, () => callback(t));
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
    // (_finishThen, not commit(): the state was just checked, and the
    // error gets the caller's stack below or in Database.transaction.)
    if (!t.finished && !t._ending) {
      await new Promise((resolve, reject) => t._finishThen('commit', undefined, resolve, reject));
    }
    return result;
  } catch (err) {
    throw ownStack ? withCallerStack(err) : err;
  } finally {
    db._untrack();
  }
}

// Enter a block: a savepoint on the parent's session, or an outermost
// block on a session taken from the pool.  Returns the Transaction itself
// when the session was at hand (an idle one from the pool, the parent's
// when nothing runs on it): entering is synchronous in the core, and every
// promise avoided here is one less AsyncLocalStorage hook per transaction.
// Otherwise a promise of it.  May throw.
function begin(db, parent, opts) {
  let session;
  if (parent) {
    if (!(parent instanceof Transaction)) {
      throw new TypeError('options.transaction must be a Transaction');
    }
    if (parent._doneState()) throw finishedParentError(parent);
    if (parent._conn.stream) throw streamOpenError(parent, 'SAVEPOINT');
    session = parent._conn;
  } else {
    session = db._pool.acquireIdle();
    if (session === null) {
      return db._pool.acquire({ signal: opts.signal })
        .then((s) => enterBlock(db, s, parent, opts));
    }
  }
  return enterBlock(db, session, parent, opts);
}

function enterBlock(db, session, parent, opts) {
  const enter = () => {
    const depth = session[kNative].enter(blockFlags(opts, parent !== null));
    // The core says whether it is one (not inside a BEGIN given as SQL).
    if (!parent && opts.pipeline) session.pipelined = session[kNative].pipelineActive();
    return depth;
  };
  const opened = (depth) => {
    const t = new Transaction(db, session, parent, opts, depth);
    blocksOf(session).stack.push(t);
    return t;
  };
  const failed = (err) => {
    if (!parent) db._pool.release(session);
    throw err;
  };
  if (session.busy || session.closed) {
    // Queued behind what runs (or refused by run() with its wording).
    return session.run(enter).then(opened, failed);
  }
  let depth;
  try {
    depth = enter();
  } catch (err) {
    session._noteError(err);  // as run() does
    return failed(err);
  }
  return opened(depth);
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

module.exports = {
  Transaction,
  ISOLATION_LEVELS,
  normalizeOptions,
  runManaged,
  runManagedPlain,
  startUnmanaged,
  endPrepared,
  listPrepared,
  kTestTransaction,
};
