'use strict';
// One session: the native Connection plus the JS queue that keeps one
// operation at a time on it (the core answers EBUSY otherwise), the
// same-tick batching of statements, and connect (host names resolved off
// the main thread).  It knows nothing of transactions: transaction.js keeps
// the open blocks of a session, the pool asks reusable().
const dns = require('dns');
const net = require('net');
const binding = require('./native');
const { ConnectionError, canceledBeforeStart } = require('./errors');
const { parse, quote } = require('./conninfo');

const BREAKING = new Set(['ECONN', 'ECOMMITUNKNOWN', 'ECLOSED']);

// After an abort, how long the server gets to end the cancelled statement
// before the session is closed (a hung server answers neither).
const ABORT_GRACE_MS = 2000;

// The addon's Connection of a session, for the files of this package only
// (better-sqlite3's lib/util.js keeps its native handle the same way).
const kNative = Symbol('pgatomic.native');

class Session {
  // resultMode: how the addon hands results over (an int8 mode of
  // Database's `types.int8`, or binding.RESULT_RAW for pgatomic/pg);
  // closedMessage(): the wording for an operation that finds the session
  // closed ('Database is closed' once its owner is); runsAlone(sql): true
  // for a statement that must not share a batch (the SQL control mode
  // recognises control statements only when they travel alone);
  // queryTimeoutMillis: the core's deadline for every round trip (0: none);
  // prepareThreshold: the core's (a text is prepared at its n-th use, 0
  // never; undefined keeps the core's default); busyPollMicros: the core's
  // busy poll (undefined keeps its default);
  // onNotification({ channel, payload, processId }) gets each NOTIFY this
  // session reads: after each operation, and while it idles (the addon
  // watches the socket then, without keeping the process alive).
  constructor({
    resultMode, closedMessage, runsAlone, queryTimeoutMillis, prepareThreshold, busyPollMicros,
    onNotification,
  }) {
    this[kNative] = new binding.Connection();
    if (queryTimeoutMillis > 0) this[kNative].setTimeout(queryTimeoutMillis);
    if (prepareThreshold !== undefined) this[kNative].setPrepareThreshold(prepareThreshold);
    if (busyPollMicros !== undefined) this[kNative].setBusyPoll(busyPollMicros);
    if (onNotification) {
      this[kNative].onNotify((channel, payload, processId) =>
        onNotification({ channel, payload, processId }));
    }
    this.resultMode = resultMode;
    this.closedMessage = closedMessage || (() => 'Connection is closed');
    this.runsAlone = runsAlone || null;
    this.broken = false;
    this.lastError = undefined;
    this.closed = false;
    this.connecting = false;
    this._queue = [];
    this._running = false;
    this._drainWaiters = [];
    // Statements issued without awaiting each other wait here for one
    // tick, then go out together (one round trip).
    this._openSlot = null;
    // The streamed statement holding the queue (stream.js), if any.
    this.stream = null;
  }

  // Queue fn (which starts one native operation and returns its promise,
  // or a value).  On an idle session fn runs at once.
  run(fn) {
    return new Promise((resolve, reject) => {
      this._enqueue((done) => {
        const fail = (err) => {
          this._noteError(err);
          reject(err);
          done();
        };
        let p;
        try {
          if (this.closed) throw new ConnectionError(this.closedMessage());
          p = fn();
        } catch (err) {
          fail(err);
          return;
        }
        if (p === null || typeof p !== 'object' || typeof p.then !== 'function') {
          resolve(p);
          done();
          return;
        }
        p.then((v) => {
          resolve(v);
          done();
        }, fail);
      });
    });
  }

  get busy() {
    return this._running || this._queue.length > 0;
  }

  drained() {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this._drainWaiters.push(resolve));
  }

  // The queue holds tasks task(done): each starts its work and calls done()
  // once the session is free for the next.  Driven by callbacks, not an
  // async loop: every await would cost a promise (and, with the
  // AsyncLocalStorage of transactions, its hooks) per statement.
  _enqueue(task) {
    this._queue.push(task);
    if (!this._running) this._next();
  }

  _next() {
    for (;;) {
      const task = this._queue.shift();
      if (task === undefined) {
        this._running = false;
        const waiters = this._drainWaiters.splice(0);
        for (const w of waiters) w();
        return;
      }
      this._running = true;
      // A task that finishes synchronously continues this loop instead of
      // recursing.
      let sync = true;
      let finishedSync = false;
      let called = false;
      task(() => {
        if (called) return;
        called = true;
        if (sync) {
          finishedSync = true;
          // Free for the rest of the task already (a transaction's exit
          // hands the session back to the pool from there); what it
          // enqueues meanwhile starts its own run.
          this._running = false;
        } else {
          this._next();
        }
      });
      sync = false;
      if (!finishedSync || this._running) return;
    }
  }

  // connect_timeout is kept by the core (per host of a list), on the loop.
  async connect(conninfo) {
    this.connecting = true;
    try {
      const { conninfo: resolved } = await resolveHosts(conninfo);
      await this.run(() => this[kNative].connect(resolved));
    } finally {
      this.connecting = false;
    }
  }

  // Statements queued in the same tick share one batch (one round trip).
  // signal (an AbortSignal) cancels the statement on the server (the core's
  // cancel never waits); each statement still settles with its own outcome
  // (a batch's per-statement results stay exact), and if the server does
  // not answer the cancel the session is closed ABORT_GRACE_MS later.
  // Callers that promised to settle at once race the signal themselves
  // (settleOnAbort in errors.js).  guard(), if given, is asked when the
  // statement's turn comes: an error it returns rejects the statement unsent.
  query(sql, params, signal, guard) {
    return new Promise((resolve, reject) => this.send(sql, params, signal, guard, resolve, reject));
  }

  // query() for a caller that settles callbacks (pgatomic/pg): one promise
  // less per statement.  resolve(value) or reject(err), always later.
  send(sql, params, signal, guard, resolve, reject) {
    let slot = this._openSlot;
    if (!slot) {
      slot = { items: [] };
      this._openSlot = slot;
      this._enqueue((done) => {
        if (this.closed) {
          // The session was closed before the slot's turn came.
          if (this._openSlot === slot) this._openSlot = null;
          const err = new ConnectionError(this.closedMessage());
          for (const it of slot.items) it.reject(err);
          done();
          return;
        }
        // Wait a tick so that every statement issued without awaiting
        // joins.
        process.nextTick(() => this._runSlot(slot, done));
      });
    }
    slot.items.push({ sql, params, signal, guard, resolve, reject });
  }

  // One queued turn: send one statement alone (pga_query_start, scripts
  // allowed) or several as a batch (pga_batch_*), settle each from its
  // outcome, then done().  An abort of any item's signal cancels what runs
  // (a cancel cannot pick a statement; inside a transaction the block is
  // broken either way).
  _runSlot(slot, done) {
    if (this._openSlot === slot) this._openSlot = null;
    let items = slot.items;
    let signals = null;
    for (const it of items) {
      if (it.signal || it.guard) {
        items = items.filter((x) => {
          const refused = x.signal && x.signal.aborted ? canceledBeforeStart(x.signal.reason)
            : x.guard && x.guard();
          if (!refused) return true;
          x.reject(refused);
          return false;
        });
        signals = new Set(items.map((x) => x.signal).filter(Boolean));
        break;
      }
    }
    let grace = null;
    const onAbort = () => {
      this[kNative].cancel().catch(() => {});
      if (!grace) grace = setTimeout(() => this.close(), ABORT_GRACE_MS);
    };
    if (signals) for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      if (grace) clearTimeout(grace);
      if (signals) for (const s of signals) s.removeEventListener('abort', onAbort);
      done();
    };
    const step = () => {
      if (items.length === 0) {
        finish();
        return;
      }
      // A statement that must run alone splits the batch in its place.
      const alone = this.runsAlone ? items.findIndex((it) => this.runsAlone(it.sql)) : -1;
      if (items.length === 1 || alone === 0 || alone === 1) {
        const it = items[0];
        items = items.slice(1);
        this._runOne(it, step);
        return;
      }
      const group = items.slice(0, alone > 0 ? alone : items.length);
      const later = alone > 0 ? items.slice(alone) : [];
      this._runBatch(group, (rest) => {
        items = rest.concat(later);
        step();
      });
    };
    step();
  }

  // Sends items as one batch; then(rest) with those still to run (after a
  // script of several commands, which runs alone in its place).
  _runBatch(items, then) {
    let started;
    try {
      started = this[kNative].batch(items.map((it) => [it.sql, it.params]), this.resultMode);
    } catch (err) {
      for (const it of items) it.reject(err);
      then([]);
      return;
    }
    const { consumed, refused, promise } = started;
    const settle = (outcomes, whole) => {
      let k = 0;
      let failure;
      for (let i = 0; i < consumed; i++) {
        const it = items[i];
        if (refused[i] !== undefined) {
          it.reject(refused[i]);
        } else if (whole) {
          it.reject(whole);
        } else {
          const o = outcomes[k++];
          if (o.ok) {
            it.resolve(o.value);
            continue;
          }
          const err = o.error;
          if (err && err.coreCode === 'EBROKEN' && failure) {
            // Skipped after an earlier statement of this batch failed.
            err.cause = failure;
          } else if (failure === undefined) {
            failure = err;
          }
          this._noteError(err);
          it.reject(err);
        }
      }
      if (consumed >= items.length) {
        then([]);
        return;
      }
      this._runOne(items[consumed], () => then(items.slice(consumed + 1)));
    };
    promise.then((outcomes) => settle(outcomes, undefined), (err) => {
      this._noteError(err);
      settle(undefined, err);
    });
  }

  // The addon settles a callback instead of a promise: the promise and the
  // .then() per statement cost their AsyncLocalStorage hooks and a
  // microtask hop (docs/benchmarks.md, "Node's per-call cost").
  _runOne(it, then) {
    const settled = (err, v) => {
      if (err === null) {
        it.resolve(v);
      } else {
        this._noteError(err);
        it.reject(err);
      }
      then();
    };
    try {
      this[kNative].query(it.sql, it.params, this.resultMode, settled);
    } catch (err) {
      // A bad argument, thrown before anything was sent or settled.
      settled(err);
    }
  }

  // Pipelined transactions (docs/pipeline.md): a statement joins the core's
  // flight at its turn, in order with the block's other operations, without
  // waiting; the flight travels at the next turn of the event loop, or with
  // the block's exit if that comes first (then COMMIT is in the same round
  // trip).  Each promise settles with its own statement's outcome.
  pipeQuery(sql, params, signal, guard) {
    return new Promise((resolve, reject) => {
      this._enqueue((done) => {
        try {
          if (this.closed) throw new ConnectionError(this.closedMessage());
          const refused = signal && signal.aborted ? canceledBeforeStart(signal.reason)
            : guard && guard();
          if (refused) throw refused;
          const index = this[kNative].queue(sql, params, this.resultMode);
          let flight = this._flight;
          if (!flight) {
            flight = [];
            this._flight = flight;
            setImmediate(() => this._syncFlight(flight));
          }
          flight.push({ index, resolve, reject });
        } catch (err) {
          this._noteError(err);
          reject(err);
        }
        done();
      });
    });
  }

  _syncFlight(flight) {
    if (this._flight !== flight) return;  // it went with the block's exit
    this._enqueue((done) => {
      if (this._flight !== flight) {
        done();
        return;
      }
      this._flight = null;
      this[kNative].pipelineSync().then((outcomes) => {
        this._settleFlight(flight, outcomes, undefined);
        done();
      }, (err) => {
        this._noteError(err);
        this._settleFlight(flight, undefined, err);
        done();
      });
    });
  }

  // The exit of a pipelined transaction's block (the core sends the flight
  // with it): then(error, outcome) with the exit's error or null and the
  // block's outcome (undefined when the exit could not start), once every
  // statement of the flight is settled.  A callback, not a promise: each
  // promise pays the AsyncLocalStorage hooks (docs/benchmarks.md, "Node").
  exitFlight(failed, then) {
    const flight = this._flight || [];
    this._flight = null;
    this.pipelined = false;
    const settled = (err, out) => {
      const error = err !== null ? err : out.error;
      if (error) this._noteError(error);
      this._settleFlight(flight, err !== null ? undefined : out.outcomes, error || undefined);
      then(error, err !== null ? undefined : out.outcome);
    };
    try {
      this[kNative].exitFlight(failed, settled);
    } catch (err) {
      settled(err);
    }
  }

  // Each statement of a flight gets its outcome; one the core kept none for
  // (a COMMIT that failed, a lost session) gets the error that ended it.
  _settleFlight(flight, outcomes, err) {
    let failure;
    for (const it of flight) {
      const o = outcomes ? outcomes[it.index] : undefined;
      if (o && o.ok) {
        it.resolve(o.value);
        continue;
      }
      const e = o ? o.error : err || new ConnectionError(this.closedMessage());
      if (o && e && e.coreCode === 'EBROKEN' && failure) {
        e.cause = failure;  // skipped after an earlier statement failed
      } else if (o && failure === undefined) {
        failure = e;
      }
      if (o) this._noteError(e);
      it.reject(e);
    }
  }

  _noteError(err) {
    if (err && BREAKING.has(err.coreCode)) this.broken = true;
    // The last core error raised here: a block's outcome that names it as
    // its cause (by the core's number) gets this very object.
    if (err && err.errorSeq !== undefined) this.lastError = err;
  }

  // Fit to hand to the next user: open, not broken, idle, outside any
  // block, and the server agrees (a session left inside a transaction is
  // destroyed, never handed on).
  reusable() {
    if (this.closed || this.broken) return false;
    return this[kNative].reusable();
  }

  // Whether an idle session is still usable: reads, without waiting, what
  // the server sent meanwhile (a FATAL from a restart or
  // pg_terminate_backend ends it).
  probe() {
    return !this.closed && this[kNative].probe();
  }

  state() {
    return this[kNative].state();
  }

  roundTrips() {
    return this[kNative].roundTrips();
  }

  notificationsDropped() {
    return this[kNative].notificationsDropped();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this[kNative].close();
  }
}

// libpq looks host names up synchronously, even in its non-blocking
// connect (PQconnectStartParams docs); resolve them here, on the thread
// pool, and pass the addresses as hostaddr (host stays for TLS and auth).
async function resolveHosts(conninfo) {
  const opts = parse(conninfo);
  const out = { conninfo: conninfo || null };
  if (opts.hostaddr || process.env.PGHOSTADDR) return out;
  const hostList = opts.host !== undefined ? opts.host : process.env.PGHOST;
  if (!hostList) return out;
  const hosts = hostList.split(',');
  const isLocal = (h) => h === '' || h.startsWith('/') || h.startsWith('@') || net.isIP(h) !== 0;
  if (hosts.every(isLocal)) return out;
  const portList = opts.port !== undefined ? opts.port : process.env.PGPORT;
  const ports = portList ? portList.split(',') : [];
  // Every address of a name becomes an entry of its own, so libpq still
  // tries them in turn (localhost: ::1, then 127.0.0.1) as it would have.
  const entries = [];  // [host, hostaddr, port]
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    const port = ports.length > 1 ? ports[i] : ports[0];
    if (isLocal(h)) {
      entries.push([h, net.isIP(h) ? h : '', port]);
      continue;
    }
    let found;
    try {
      found = await dns.promises.lookup(h, { all: true });
    } catch (err) {
      throw new ConnectionError(`could not translate host name "${h}" to address: ${err.code || err.message}`);
    }
    for (const { address } of found) entries.push([h, address, port]);
  }
  const parts = [];
  for (const [k, v] of Object.entries(opts)) {
    if (k !== 'host' && k !== 'hostaddr' && k !== 'port') parts.push(`${k}=${quote(v)}`);
  }
  parts.push(`host=${quote(entries.map((e) => e[0]).join(','))}`);
  parts.push(`hostaddr=${quote(entries.map((e) => e[1]).join(','))}`);
  if (ports.length > 1) {
    parts.push(`port=${quote(entries.map((e) => e[2]).join(','))}`);
  } else if (ports.length === 1) {
    parts.push(`port=${quote(ports[0])}`);
  }
  out.conninfo = parts.join(' ');
  return out;
}

// busyPollMicros as given to a Database or to pgatomic/pg's Client: the
// core's budget in microseconds, 0 never, at most PGA_BUSY_POLL_MAX_US
// (pgatomic.h "Busy polling"); undefined keeps the core's default.
function checkBusyPollMicros(value, name) {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 1000000)) {
    throw new TypeError(`${name} must be an integer from 0 to 1000000`);
  }
  return value;
}

module.exports = { Session, kNative, resolveHosts, checkBusyPollMicros };
