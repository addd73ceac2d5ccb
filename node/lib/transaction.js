'use strict';
// Sequelize's Transaction on the core's atomic blocks.  A root Transaction
// is an outermost block on its own pooled connection; a nested one is a
// savepoint block on its parent's.  The core decides what SQL travels
// (BEGIN with the first statement, RELEASE with the next one, ...); this
// file keeps the JS objects, their hooks and Sequelize's wording.
const binding = require('./native');
const { TransactionError, ConnectionError } = require('./errors');

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
  return flags;
}

function normalizeOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    throw new TypeError('transaction options must be an object');
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
  return {
    isolationLevel: isolationLevel === null ? undefined : isolationLevel,
    readOnly: readOnly === undefined ? undefined : Boolean(readOnly),
    deferrable: deferrable === undefined ? undefined : Boolean(deferrable),
    nestMode,
    transaction: options.transaction,
  };
}

function hasBlockOptions(o) {
  return o.isolationLevel !== undefined || o.readOnly === true || o.deferrable === true;
}

let hookSeq = 0;

class Transaction {
  constructor(db, conn, parent, options) {
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
    this._lastError = undefined;
    // Hooks registered here or inherited from released savepoints:
    // { seq, fn, t }, kept in registration order.
    this._hooks = { commit: [], rollback: [], after: [] };
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

  query(sql, params) {
    return this.db.query(sql, params, { transaction: this });
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

  async _query(sql, params, signal) {
    if (this._doneState()) throw this._rejectFinished(sql);
    if (this.db._closed) throw new ConnectionError('Database is closed');
    try {
      return await this._conn.query(sql, params, signal);
    } catch (err) {
      // Kept as the cause of a later "COMMIT answered with ROLLBACK".
      if (err && (err.coreCode === 'ESERVER' || err.coreCode === 'ECONN')) {
        this.rootTransaction._lastError = err;
      }
      throw err;
    }
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
    // A released savepoint's work now belongs to the nearest open ancestor,
    // so its late hooks wait for that ancestor's outcome.
    let owner = this;
    while (owner.finished === 'commit' && owner.parent) owner = owner.parent;
    if (!owner.finished) owner._hooks[kind].push({ seq: hookSeq++, fn, t: this });
    return this;
  }

  async commit() {
    const state = this.finished || this._ending;
    if (state) {
      throw new TransactionError(
        `Transaction cannot be committed because it has been finished with state: ${state}`);
    }
    return this._finish('commit');
  }

  async rollback() {
    const state = this.finished || this._ending;
    if (state) {
      throw new TransactionError(
        `Transaction cannot be rolled back because it has been finished with state: ${state}`);
    }
    return this._finish('rollback');
  }

  // Leave this block, and first every block opened after it on the same
  // connection (PostgreSQL's rule: RELEASE or ROLLBACK TO of a savepoint
  // also ends the savepoints made after it; COMMIT/ROLLBACK ends them all).
  async _finish(how) {
    this._ending = how;
    const conn = this._conn;
    const pending = [];  // [transaction, outcome] in the order they ended
    let error;
    await conn.run(async () => {
      const idx = conn.stack.indexOf(this);
      while (conn.stack.length > idx + 1) {
        const child = conn.stack[conn.stack.length - 1];
        child._ending = child._ending || how;
        const outcome = await exitBlock(conn, child, how);
        pending.push([child, outcome]);
      }
      const outcome = await exitBlock(conn, this, how);
      pending.push([this, outcome]);
    }).catch((err) => { error = err; });

    if (pending.length === 0) {
      // The session was gone before anything could be sent (the Database
      // was closed under an unmanaged transaction): nothing was committed.
      for (const t of conn.stack.splice(conn.stack.indexOf(this))) t.finished = 'rollback';
      this.finished = 'rollback';
    }
    const root = !this.parent;
    if (root) this.db._pool.release(conn);

    let hookError;
    for (const [t, outcome] of pending) {
      try {
        await t._afterExit(outcome);
      } catch (err) {
        if (hookError === undefined) hookError = err;
      }
    }
    const own = pending.length > 0 ? pending[pending.length - 1][1] : undefined;
    if (error) throw error;
    if (own && own.error) throw own.error;
    if (hookError !== undefined) throw hookError;
  }

  // Record the outcome of this block's exit and run or hand over its hooks.
  async _afterExit(outcome) {
    this.finished = outcome.state;
    this._endTrips = this._conn.roundTrips();
    const hooks = this._hooks;
    this._hooks = { commit: [], rollback: [], after: [] };
    if (outcome.state === 'unknown') return;
    if (this.parent && outcome.state === 'commit') {
      // RELEASE: the savepoint's fate is now its parent's.
      const p = this.parent;
      let owner = p;
      while (owner.finished === 'commit' && owner.parent) owner = owner.parent;
      if (owner.finished) return;
      for (const kind of ['commit', 'rollback', 'after']) {
        owner._hooks[kind] = owner._hooks[kind].concat(hooks[kind]).sort((a, b) => a.seq - b.seq);
      }
      return;
    }
    const list = outcome.state === 'commit' ? hooks.commit : hooks.rollback;
    await this._dispatch(list.concat(hooks.after));
  }

  async _dispatch(hooks) {
    // Hooks run outside this transaction: a query inside one runs on the
    // nearest still-open ancestor, or on its own.
    let ambient = this.parent;
    while (ambient && ambient._doneState()) ambient = ambient.parent;
    for (const h of hooks) {
      await this.db._als.run(ambient || undefined, () => h.fn.call(h.t, h.t));
    }
  }
}

// Exit one block through the core and say what became of it.  Never
// throws: the error, if any, is part of the outcome.
async function exitBlock(conn, t, how) {
  const before = conn.state();
  const idx = conn.stack.lastIndexOf(t);
  if (idx >= 0) conn.stack.splice(idx, 1);
  const failed = how === 'rollback';
  try {
    await conn.native.exit(failed);
  } catch (err) {
    switch (err.coreCode) {
      case 'ECOMMITUNKNOWN':
        conn.broken = true;
        return { state: 'unknown', error: err };
      case 'EROLLEDBACK':
        if (!err.cause && t.rootTransaction._lastError) err.cause = t.rootTransaction._lastError;
        return { state: 'rollback', error: err };
      case 'ECONN':
        conn.broken = true;
        return { state: 'rollback', error: failed ? undefined : err };
      default:
        // A failed COMMIT (deferred constraint, serialization failure):
        // the core has rolled the transaction back.
        return { state: 'rollback', error: err };
    }
  }
  if (failed) return { state: 'rollback' };
  if (!before.open) {
    // The session ended inside the block: the core leaves it quietly, but
    // nothing was committed.
    conn.broken = true;
    const msg = t.db._closed ? 'Database is closed' : 'Connection lost before COMMIT; the transaction was rolled back';
    return { state: 'rollback', error: new ConnectionError(msg) };
  }
  if (before.needsRollback) {
    // The block had failed (an error the caller caught): the core sent
    // ROLLBACK (TO) instead of COMMIT/RELEASE.  Never report that as success.
    const cause = t.rootTransaction._lastError;
    return {
      state: 'rollback',
      error: new TransactionError(
        t.parent
          ? 'Savepoint was rolled back instead of released because a statement inside it failed'
          : 'Transaction was rolled back instead of committed because a statement inside it failed',
        cause ? { cause } : undefined),
    };
  }
  return { state: 'commit' };
}

module.exports = {
  Transaction,
  ISOLATION_LEVELS,
  blockFlags,
  normalizeOptions,
  hasBlockOptions,
};
