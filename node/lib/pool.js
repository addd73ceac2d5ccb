'use strict';
// A lazy pool of sessions: at most `max`, idle ones closed after
// idleTimeoutMillis, waiters served in order.  What a session is used for
// (statements, transactions) is its users' business; the pool only asks
// session.reusable() when one comes back.
const { Session } = require('./session');
const {
  ConnectionError, ConnectionAcquireTimeoutError, canceledBeforeStart,
} = require('./errors');

class Pool {
  // connectionString() is read at each connect, so the owner can keep it
  // private.
  // onNotification(n) receives the NOTIFYs any session reads.
  constructor({
    max, idleTimeoutMillis, int8Mode, connectionString, queryTimeoutMillis, acquireTimeoutMillis,
    prepareThreshold, busyPollMicros, onNotification,
  }) {
    this.prepareThreshold = prepareThreshold;
    this.busyPollMicros = busyPollMicros;
    this.max = max;
    this.queryTimeoutMillis = queryTimeoutMillis || 0;
    this.acquireTimeoutMillis = acquireTimeoutMillis || 0;
    this.onNotification = onNotification;
    this.droppedByClosed = 0;
    this.idleTimeoutMillis = idleTimeoutMillis;
    this.int8Mode = int8Mode;
    this.connectionString = connectionString;
    this.all = new Set();
    this.idle = [];
    // When each idle session came back (performance.now()), and one timer
    // for the oldest: a timer per release would cost one per transaction.
    this.idleSince = new Map();
    this.idleTimer = null;
    this.waiters = [];
    this.closed = false;
    // A db.query() waiting for its session, that others may join.
    this.openGroup = null;
  }

  // No idle session and no room for a new one.
  saturated() {
    return this.idle.length === 0 && this.all.size >= this.max;
  }

  // A session for the caller: an idle one, a new one, or the next one
  // released.  signal (an AbortSignal) and acquireTimeoutMillis reject at
  // once, queued or connecting; a session that arrives after that goes
  // back to the pool.
  acquire({ signal } = {}) {
    if (this.closed) return Promise.reject(new ConnectionError('Database is closed'));
    if (signal && signal.aborted) return Promise.reject(canceledBeforeStart(signal.reason));
    return new Promise((resolve, reject) => {
      let done = false;
      let timer = null;
      const settle = () => {
        done = true;
        if (timer) clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
      };
      const waiter = {
        resolve: (session) => {
          if (done) {
            this.release(session);
            return;
          }
          settle();
          resolve(session);
        },
        reject: (err) => {
          if (done) return;
          settle();
          reject(err);
        },
      };
      const giveUp = (err) => {
        if (done) return;
        settle();
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(err);
      };
      const onAbort = () => giveUp(canceledBeforeStart(signal.reason));
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      if (this.acquireTimeoutMillis > 0) {
        timer = setTimeout(() => giveUp(new ConnectionAcquireTimeoutError(
          `no session from the pool within ${this.acquireTimeoutMillis} ms ` +
          `(acquireTimeoutMillis; ${this.all.size} of max ${this.max} in use)`)),
        this.acquireTimeoutMillis);
      }
      this._serve(waiter);
    });
  }

  // An idle session that is still usable, handed over at once (no promise:
  // each costs AsyncLocalStorage's hooks, docs/benchmarks.md "Node"); null
  // when none is idle or others wait, and acquire() must be used.
  acquireIdle() {
    if (this.closed || this.waiters.length > 0) return null;
    while (this.idle.length > 0) {
      const session = this.idle.pop();
      this._clearIdleTimer(session);
      if (session.probe()) return session;
      this._destroy(session);
    }
    return null;
  }

  _serve(waiter) {
    while (this.idle.length > 0) {
      const session = this.idle.pop();
      this._clearIdleTimer(session);
      // A session the server ended while it sat idle (restart,
      // pg_terminate_backend) is replaced.
      if (session.probe()) {
        waiter.resolve(session);
        return;
      }
      this._destroy(session);
    }
    if (this.all.size < this.max) {
      this._create().then(waiter.resolve, waiter.reject);
      return;
    }
    this.waiters.push(waiter);
  }

  async _create() {
    const session = new Session({
      resultMode: this.int8Mode,
      queryTimeoutMillis: this.queryTimeoutMillis,
      prepareThreshold: this.prepareThreshold,
      busyPollMicros: this.busyPollMicros,
      closedMessage: () => (this.closed ? 'Database is closed' : 'Connection is closed'),
      onNotification: this.onNotification,
    });
    this.all.add(session);
    try {
      await session.connect(this.connectionString());
    } catch (err) {
      this._destroy(session);
      this._serveWaiter();
      throw err;
    }
    return session;
  }

  // A broken session (lost, or left inside a transaction) is destroyed,
  // never handed to the next user.
  release(session) {
    if (session.busy && !session.closed) {
      // An aborted statement still ending on the server (it was cancelled;
      // the session closes itself if the server does not answer).
      session.drained().then(() => this.release(session));
      return;
    }
    if (session.closed) {
      this.all.delete(session);
      this._serveWaiter();
      return;
    }
    if (this.closed || !session.reusable()) {
      this._destroy(session);
      this._serveWaiter();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(session);
      return;
    }
    this.idle.push(session);
    if (this.idleTimeoutMillis > 0) {
      this.idleSince.set(session, performance.now());
      if (this.idleTimer === null) this._armIdleTimer(this.idleTimeoutMillis);
    }
  }

  // Close the sessions idle for idleTimeoutMillis, then wait for the next
  // oldest.  A session taken meanwhile has left idleSince.
  _armIdleTimer(ms) {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const now = performance.now();
      let next = Infinity;
      for (const session of [...this.idle]) {
        const since = this.idleSince.get(session);
        if (since === undefined) continue;
        const left = since + this.idleTimeoutMillis - now;
        if (left > 0) {
          next = Math.min(next, left);
          continue;
        }
        this.idle.splice(this.idle.indexOf(session), 1);
        this._destroy(session);
      }
      if (next !== Infinity) this._armIdleTimer(Math.ceil(next));
    }, ms);
    // An idle pool must not keep the process alive.
    this.idleTimer.unref();
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

  _clearIdleTimer(session) {
    this.idleSince.delete(session);
  }

  _destroy(session) {
    this._clearIdleTimer(session);
    session.close();
    if (this.all.delete(session)) this.droppedByClosed += session.notificationsDropped();
  }

  // Notifications the sessions dropped over the core's bound.
  notificationsDropped() {
    let n = this.droppedByClosed;
    for (const s of this.all) n += s.notificationsDropped();
    return n;
  }

  async close() {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionError('Database is closed'));
    const sessions = [...this.all];
    // A connect still under way serves nobody now (the waiters were just
    // rejected): end it rather than wait for its connect_timeout.
    for (const s of sessions) if (s.connecting) s.close();
    // A stream nobody reads to its end would hold its session forever.
    for (const s of sessions) {
      if (s.stream) s.stream.close(new ConnectionError('Database is closed'));
    }
    await Promise.all(sessions.map((s) => s.drained()));
    for (const s of sessions) this._destroy(s);
    this.idle = [];
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

module.exports = { Pool };
