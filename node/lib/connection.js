'use strict';
// One pooled session: the native Connection plus the JS queue that keeps
// one operation at a time on it (the core answers EBUSY otherwise) and the
// open Transaction objects, innermost last, mirroring the core's stack.
const dns = require('dns');
const net = require('net');
const binding = require('./native');
const { ConnectionError, QueryCanceledError } = require('./errors');

const BREAKING = new Set(['ECONN', 'ECOMMITUNKNOWN', 'ECLOSED']);

class PooledConnection {
  constructor(pool, int8Mode) {
    this.pool = pool;
    this.native = new binding.Connection();
    this.int8Mode = int8Mode;
    this.stack = [];
    this.broken = false;
    this.closed = false;
    this.idleTimer = null;
    this._queue = [];
    this._running = false;
    this._drainWaiters = [];
  }

  // Queue fn (which starts one native operation and returns its promise).
  run(fn) {
    return new Promise((resolve, reject) => {
      this._queue.push({ fn, resolve, reject });
      if (!this._running) this._pump();
    });
  }

  get busy() {
    return this._running || this._queue.length > 0;
  }

  drained() {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this._drainWaiters.push(resolve));
  }

  async _pump() {
    this._running = true;
    while (this._queue.length > 0) {
      const item = this._queue.shift();
      try {
        if (this.closed) {
          throw new ConnectionError(this.pool.closed ? 'Database is closed' : 'Connection is closed');
        }
        item.resolve(await item.fn());
      } catch (err) {
        if (err && BREAKING.has(err.coreCode)) this.broken = true;
        item.reject(err);
      }
    }
    this._running = false;
    const waiters = this._drainWaiters.splice(0);
    for (const w of waiters) w();
  }

  async connect(conninfo) {
    const { conninfo: resolved, timeoutSeconds } = await resolveHosts(conninfo);
    // libpq's non-blocking connect leaves connect_timeout to its caller.
    let timedOut = false;
    let timer = null;
    if (timeoutSeconds > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        this.native.close();
      }, Math.max(2, timeoutSeconds) * 1000);
    }
    try {
      await this.run(() => this.native.connect(resolved));
    } catch (err) {
      if (timedOut) throw new ConnectionError('timeout expired');
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  // signal (an AbortSignal) cancels the statement on the server; the
  // cancel request itself runs on the thread pool (it opens a connection).
  query(sql, params, signal) {
    if (!signal) return this.run(() => this.native.query(sql, params, this.int8Mode));
    return this.run(async () => {
      if (signal.aborted) throw canceledBeforeStart();
      const pending = this.native.query(sql, params, this.int8Mode);
      const onAbort = () => { this.native.cancel().catch(() => {}); };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await pending;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    });
  }

  state() {
    return this.native.state();
  }

  roundTrips() {
    return this.native.roundTrips();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.native.close();
  }
}

// Aborted before it was sent: worded as the server words a cancel.
function canceledBeforeStart() {
  return new QueryCanceledError('canceling statement due to user request', { code: '57014' });
}

// libpq looks host names up synchronously, even in its non-blocking
// connect (PQconnectStartParams docs); resolve them here, on the thread
// pool, and pass the addresses as hostaddr (host stays for TLS and auth).
async function resolveHosts(conninfo) {
  let opts;
  try {
    opts = binding.parseConninfo(conninfo || '');
  } catch (err) {
    throw new ConnectionError(err.message);
  }
  const timeout = opts.connect_timeout !== undefined ? opts.connect_timeout : process.env.PGCONNECT_TIMEOUT;
  const out = { conninfo: conninfo || null, timeoutSeconds: Number(timeout) || 0 };
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

function quote(v) {
  return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

module.exports = { PooledConnection, resolveHosts };
