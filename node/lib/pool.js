'use strict';
// A lazy pool of sessions: at most `max`, idle ones closed after
// idleTimeoutMillis, waiters served in order.  What a session is used for
// (statements, transactions) is its users' business; the pool only asks
// session.reusable() when one comes back.
const { Session } = require('./session');
const { ConnectionError } = require('./errors');

class Pool {
  // connectionString() is read at each connect, so the owner can keep it
  // private.
  constructor({ max, idleTimeoutMillis, int8Mode, connectionString }) {
    this.max = max;
    this.idleTimeoutMillis = idleTimeoutMillis;
    this.int8Mode = int8Mode;
    this.connectionString = connectionString;
    this.all = new Set();
    this.idle = [];
    this.idleTimers = new Map();
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
      const session = this.idle.pop();
      this._clearIdleTimer(session);
      // A session the server ended while it sat idle (restart,
      // pg_terminate_backend) is replaced.
      if (session.probe()) return session;
      this._destroy(session);
    }
    if (this.all.size < this.max) return this._create();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async _create() {
    const session = new Session({
      int8Mode: this.int8Mode,
      closedMessage: () => (this.closed ? 'Database is closed' : 'Connection is closed'),
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
      const timer = setTimeout(() => {
        const i = this.idle.indexOf(session);
        if (i >= 0) this.idle.splice(i, 1);
        this._destroy(session);
      }, this.idleTimeoutMillis);
      // An idle pool must not keep the process alive.
      timer.unref();
      this.idleTimers.set(session, timer);
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

  _clearIdleTimer(session) {
    const timer = this.idleTimers.get(session);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(session);
  }

  _destroy(session) {
    this._clearIdleTimer(session);
    session.close();
    this.all.delete(session);
  }

  async close() {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionError('Database is closed'));
    const sessions = [...this.all];
    await Promise.all(sessions.map((s) => s.drained()));
    for (const s of sessions) this._destroy(s);
    this.idle = [];
  }
}

module.exports = { Pool };
