'use strict';
// Streaming a large result: the rows come from the server in chunks of a
// bounded size, each decoded by the addon a slice at a time (settle.cc) and
// handed over when the one before has been taken.  Nothing more is read
// from the socket while a chunk waits for its reader: a slow consumer stops
// the server (it blocks writing), so memory stays bounded by a chunk or two
// whatever the result's size.
//
// SessionStream holds one session's queue for the statement's whole life
// (other statements of that session wait, or are refused: see
// Transaction); RowStream is the public async iterator (db.stream,
// t.stream); pgatomic/pg's portal (pg/submittable.js) reads chunks too.
const { ConnectionError, TransactionError, withCallerStack } = require('./errors');
const { kNative } = require('./session');

// Rows per chunk unless the caller says: large enough that a chunk's fixed
// cost (a promise, a loop turn) vanishes beside its rows, small enough that
// one chunk decodes within a slice and two of them are a few hundred kB.
const DEFAULT_CHUNK_ROWS = 1000;
const MAX_CHUNK_ROWS = 1 << 20;

// One streamed statement on a session.  open() waits for the session's
// turn and resolves with the first chunk; next() with the following ones;
// each chunk is a result ({ rows, fields, ... } as the session's result
// mode builds it) with `done` set on the last.  The session is handed back
// (its queue moves on) when the last chunk arrives, the statement fails,
// or close() has ended it early.
class SessionStream {
  constructor(session, sql, params, chunkRows) {
    this.session = session;
    this._sql = sql;
    this._params = params;
    this._chunkRows = chunkRows;
    this._done = null;      // the queue's done(), while the session is held
    this._ended = false;
    this._closing = null;
    this._inflight = null;  // the native operation under way, if any
    this._closedBy = undefined;
    this._opening = null;
  }

  get ended() {
    return this._ended;
  }

  open() {
    const session = this.session;
    this._opening = new Promise((resolve, reject) => {
      session._enqueue((done) => {
        if (session.closed) {
          done();
          this._ended = true;
          reject(new ConnectionError(session.closedMessage()));
          return;
        }
        this._done = done;
        session.stream = this;
        this._track(() => session[kNative].streamStart(this._sql, this._params,
          session.resultMode, this._chunkRows)).then(resolve, reject);
      });
    });
    return this._opening;
  }

  next() {
    if (this._ended) {
      return Promise.reject(this._closedBy || new ConnectionError(this.session.closedMessage()));
    }
    return this._track(() => this.session[kNative].streamNext());
  }

  // Ends the statement early (the rest is never decoded); resolves once the
  // session can run the next statement.  Waits for a chunk in flight first.
  // reason: what a later next() rejects with (closed by someone else than
  // its reader: the transaction's end, the Database's close()).
  close(reason) {
    if (this._ended) return Promise.resolve();
    if (reason && !this._closedBy) this._closedBy = reason;
    if (!this._closing) {
      this._closing = (async () => {
        // Closed before its turn came: it runs, and is ended at once.
        if (this._opening) await this._opening.catch(() => {});
        if (this._inflight) await this._inflight.catch(() => {});
        if (this._ended) return;
        try {
          await this.session[kNative].streamClose();
        } catch (err) {
          this.session._noteError(err);
        } finally {
          this._release();
        }
      })();
    }
    return this._closing;
  }

  // Runs one native call; a last chunk or a failure hands the session back
  // before the caller sees either.
  _track(call) {
    let p;
    try {
      p = call();
    } catch (err) {
      this._release();
      return Promise.reject(err);
    }
    const tracked = p.then((batch) => {
      this._inflight = null;
      // The addon's { done, result }: the result, marked if last.
      const chunk = batch.result;
      chunk.done = batch.done;
      if (chunk.done) this._release();
      return chunk;
    }, (err) => {
      this._inflight = null;
      this.session._noteError(err);
      this._release();
      throw err;
    });
    this._inflight = tracked;
    return tracked;
  }

  _release() {
    if (this._ended) return;
    this._ended = true;
    if (this.session.stream === this) this.session.stream = null;
    const done = this._done;
    this._done = null;
    if (done) done();
  }
}

function checkChunkRows(value, what) {
  if (value === undefined) return DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_CHUNK_ROWS) {
    throw new TypeError(`${what} must be an integer from 1 to ${MAX_CHUNK_ROWS}`);
  }
  return value;
}

// The async iterator of db.stream() and t.stream(): rows in order, one
// chunk read ahead of the consumer.  Single use.  `fields` is known from
// the first row on; `command` and `rowCount` once the last row was read.
// Leaving a `for await` early (break, return, throw) ends the statement
// and hands the session back usable.  A statement that fails part-way
// rejects the iteration after the rows that came before the error (inside
// a transaction the block is then failed, as for any statement).
class RowStream {
  // acquire() -> Promise<{ session, release(session), transaction }>.
  constructor(acquire, sql, params, chunkRows) {
    this._acquire = acquire;
    this._sql = sql;
    this._params = params;
    this._chunkRows = chunkRows;
    this._started = false;
    this._stream = null;
    this._lease = null;
    this._rows = [];
    this._index = 0;
    this._ahead = null;   // the next chunk, asked for already
    this._last = false;   // the chunk in _rows is the last
    this._finished = false;
    this._error = undefined;
    this._busy = null;    // the last next() still settling, if any
    this.fields = undefined;
    this.command = undefined;
    this.rowCount = undefined;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    if (this._busy === null && this._index < this._rows.length) {
      return Promise.resolve({ value: this._shift(), done: false });
    }
    // Calls made without waiting for the one before (allowed by the
    // iterator protocol, never done by for await) are answered in order.
    const prev = this._busy;
    const p = prev ? prev.then(() => this._step(), () => this._step()) : this._step();
    this._busy = p;
    const clear = () => {
      if (this._busy === p) this._busy = null;
    };
    p.then(clear, clear);
    return p;
  }

  _shift() {
    const value = this._rows[this._index];
    this._rows[this._index++] = undefined;  // taken: let it go
    return value;
  }

  _step() {
    if (this._index < this._rows.length) return Promise.resolve({ value: this._shift(), done: false });
    return this._nextSlow();
  }

  async _nextSlow() {
    if (this._error !== undefined) throw this._error;
    if (this._finished) return { value: undefined, done: true };
    try {
      if (!this._started) {
        this._started = true;
        this._take(await this._open());
      }
      while (this._index >= this._rows.length) {
        if (this._last) {
          await this._end();
          return { value: undefined, done: true };
        }
        const ahead = this._ahead;
        this._ahead = null;
        this._take(await ahead);
      }
    } catch (err) {
      this._error = withCallerStack(err);
      await this._end();
      throw this._error;
    }
    return { value: this._shift(), done: false };
  }

  // for await calls this on break, return and throw.
  async return(value) {
    if (this._busy) await this._busy.catch(() => {});
    if (!this._finished) {
      if (this._stream && !this._stream.ended) {
        if (this._ahead) this._ahead.catch(() => {});
        await this._stream.close();
      }
      await this._end();
    }
    return { value, done: true };
  }

  async _open() {
    this._lease = await this._acquire();
    const { session } = this._lease;
    this._stream = new SessionStream(session, this._sql, this._params, this._chunkRows);
    return this._stream.open();
  }

  _take(chunk) {
    if (this.fields === undefined) this.fields = chunk.fields;
    this._rows = chunk.rows;
    this._index = 0;
    this._last = chunk.done === true;
    if (this._last) {
      this.command = chunk.command;
      this.rowCount = chunk.rowCount;
    } else {
      // Read the next chunk while this one is consumed: never more than
      // one ahead, so a slow consumer stops the reading.
      this._ahead = this._stream.next();
      this._ahead.catch(() => {});
    }
  }

  async _end() {
    if (this._finished) return;
    this._finished = true;
    this._rows = [];
    this._index = 0;
    const lease = this._lease;
    this._lease = null;
    if (lease) lease.release(lease.session);
  }
}

// A stream on a transaction's session refuses the transaction's other work
// while it is open: a statement would wait behind rows nobody reads.
function streamOpenError(t, sql) {
  const err = new TransactionError(
    `Transaction ${t.id} cannot run a statement while a stream of it is open: read the stream ` +
    'to its end or leave its loop (break) first.');
  err.sql = sql;
  return err;
}

module.exports = { SessionStream, RowStream, checkChunkRows, streamOpenError, DEFAULT_CHUNK_ROWS };
