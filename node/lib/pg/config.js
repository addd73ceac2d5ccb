'use strict';
// A pg Client's configuration, read the way node-postgres reads it (its
// ConnectionParameters: config, then a connection string over it, then the
// PG* environment variables, then pg.defaults), and written as the libpq
// conninfo the session connects with.
//
// TLS follows pg's meaning, never libpq's defaults: `ssl` false (the
// default) connects in clear, `ssl: true` or an object verifies the
// certificate and the host name (libpq's verify-full), `rejectUnauthorized:
// false` encrypts without verifying (require).  An ssl option that libpq
// cannot honour is refused with an error, never dropped.
const fs = require('fs');
const os = require('os');
const path = require('path');
const parseUrl = require('pg-connection-string').parse;
const defaults = require('./defaults');

// config[key] if set, else the environment variable, else pg.defaults.
function pick(config, key, envName) {
  if (config[key]) return config[key];
  const env = envName === false ? undefined : process.env[envName || `PG${key.toUpperCase()}`];
  return env || defaults[key];
}

function sslFromEnvironment() {
  switch (process.env.PGSSLMODE) {
    case 'disable': return false;
    case 'prefer':
    case 'require':
    case 'verify-ca':
    case 'verify-full': return true;
    case 'no-verify': return { rejectUnauthorized: false };
    default: return defaults.ssl;
  }
}

// The keys of pg's `ssl` object that libpq can carry.  `require` is not a
// TLS option (a common Sequelize/Heroku idiom, ignored by Node as by us).
const SSL_KEYS = new Set(['rejectUnauthorized', 'ca', 'cert', 'key', 'passphrase',
  'checkServerIdentity', 'minVersion', 'maxVersion', 'require']);

class ConnectionParameters {
  constructor(config) {
    config = typeof config === 'string' ? parseUrl(config) : (config || {});
    if (config.connectionString) config = { ...config, ...parseUrl(config.connectionString) };
    this.user = pick(config, 'user');
    this.database = pick(config, 'database');
    if (this.database === undefined || this.database === null) this.database = this.user;
    this.port = parseInt(pick(config, 'port'), 10);
    this.host = pick(config, 'host');
    // Kept out of console.log(client) and stack traces, as pg does.
    Object.defineProperty(this, 'password', {
      configurable: true, enumerable: false, writable: true, value: pick(config, 'password'),
    });
    this.options = pick(config, 'options');
    this.ssl = config.ssl === undefined ? sslFromEnvironment() : config.ssl;
    if (this.ssl === 'true') this.ssl = true;
    if (this.ssl === 'no-verify') this.ssl = { rejectUnauthorized: false };
    if (this.ssl && this.ssl.key) Object.defineProperty(this.ssl, 'key', { enumerable: false });
    this.sslnegotiation = pick(config, 'sslnegotiation', 'PGSSLNEGOTIATION');
    this.client_encoding = pick(config, 'client_encoding');
    this.replication = pick(config, 'replication');
    this.application_name = pick(config, 'application_name', 'PGAPPNAME');
    this.fallback_application_name = pick(config, 'fallback_application_name', false);
    this.statement_timeout = pick(config, 'statement_timeout', false);
    this.lock_timeout = pick(config, 'lock_timeout', false);
    this.idle_in_transaction_session_timeout =
      pick(config, 'idle_in_transaction_session_timeout', false);
    this.query_timeout = pick(config, 'query_timeout', false);
    this.connectionTimeoutMillis = config.connectionTimeoutMillis || 0;
    this.keepAlive = config.keepAlive;
    this.keepAliveInitialDelayMillis = config.keepAliveInitialDelayMillis;
    if (config.stream !== undefined && config.stream !== null) {
      throw new TypeError('pgatomic/pg connects through libpq: the `stream` option (a socket of your own) is not supported');
    }
    if (this.replication) {
      throw new TypeError('pgatomic/pg does not support replication connections');
    }
    if (this.sslnegotiation !== undefined && this.sslnegotiation !== 'postgres') {
      throw new TypeError(`pgatomic/pg: sslnegotiation=${this.sslnegotiation} is not supported (libpq before 17 negotiates TLS the traditional way only)`);
    }
    const enc = this.client_encoding;
    if (enc && !/^utf-?8$/i.test(enc)) {
      throw new TypeError(`pgatomic/pg: client_encoding ${enc} is not supported (the session speaks UTF8)`);
    }
  }

  // Startup settings pg sends as parameters of their own; libpq carries
  // them in `options`.
  _startupOptions() {
    const parts = [];
    if (this.options) parts.push(String(this.options));
    for (const key of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout']) {
      if (this[key]) parts.push(`-c ${key}=${parseInt(this[key], 10)}`);
    }
    return parts.join(' ');
  }

  // The conninfo for libpq, and the files its TLS settings point at (to be
  // removed with cleanup() once the session is open).  password is the
  // resolved password (pg accepts a function for it).
  toConninfo(password) {
    const kv = [];
    const add = (k, v) => {
      if (v !== undefined && v !== null && v !== '') kv.push(`${k}=${quote(v)}`);
    };
    add('host', this.host);
    if (Number.isFinite(this.port)) add('port', this.port);
    add('user', this.user);
    add('dbname', this.database);
    add('password', password);
    add('application_name', this.application_name);
    add('fallback_application_name', this.fallback_application_name);
    add('options', this._startupOptions());
    if (this.keepAlive === false) add('keepalives', 0);
    if (typeof this.keepAliveInitialDelayMillis === 'number' && this.keepAliveInitialDelayMillis > 0) {
      add('keepalives_idle', Math.max(1, Math.floor(this.keepAliveInitialDelayMillis / 1000)));
    }
    // pg never tries GSSAPI encryption; libpq's default would.
    add('gssencmode', 'disable');
    const tls = tlsSettings(this.ssl);
    for (const [k, v] of tls.settings) add(k, v);
    return { conninfo: kv.join(' '), cleanup: tls.cleanup };
  }
}

// pg's `ssl` value as libpq settings.  PEM contents (ca, cert, key) go to
// files of a private temporary directory, since libpq reads files.
function tlsSettings(ssl) {
  const settings = [];
  let dir = null;
  const cleanup = () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  };
  if (!ssl) {
    settings.push(['sslmode', 'disable']);
    return { settings, cleanup };
  }
  const opts = typeof ssl === 'object' ? ssl : {};
  for (const key of Object.keys(opts)) {
    if (!SSL_KEYS.has(key)) {
      throw new TypeError(`pgatomic/pg: the ssl option "${key}" is not supported (libpq honours: ${[...SSL_KEYS].filter((k) => k !== 'require').join(', ')})`);
    }
  }
  const file = (name, contents) => {
    if (!dir) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgatomic-ssl-'));
    const p = path.join(dir, name);
    const text = Array.isArray(contents) ? contents.map(String).join('\n') : String(contents);
    fs.writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  try {
    let mode = 'verify-full';
    if (opts.rejectUnauthorized === false) {
      mode = 'require';
    } else if (opts.checkServerIdentity !== undefined) {
      // A no-op check is how pg spells "verify the chain, not the name";
      // any other function would need to run inside the handshake.
      if (!isNoop(opts.checkServerIdentity)) {
        throw new TypeError('pgatomic/pg: ssl.checkServerIdentity can only be a no-op function (certificate chain verified, host name not: libpq verify-ca)');
      }
      mode = 'verify-ca';
    }
    settings.push(['sslmode', mode]);
    if (opts.ca) {
      settings.push(['sslrootcert', file('root.crt', opts.ca)]);
    } else if (mode !== 'require') {
      const bundle = defaultRootCertificates();
      if (bundle) settings.push(['sslrootcert', bundle]);
    }
    if (opts.cert) settings.push(['sslcert', file('client.crt', opts.cert)]);
    if (opts.key) settings.push(['sslkey', file('client.key', opts.key)]);
    if (opts.passphrase) settings.push(['sslpassword', opts.passphrase]);
    if (opts.minVersion) settings.push(['ssl_min_protocol_version', opts.minVersion]);
    if (opts.maxVersion) settings.push(['ssl_max_protocol_version', opts.maxVersion]);
  } catch (err) {
    cleanup();
    throw err;
  }
  return { settings, cleanup };
}

function isNoop(fn) {
  if (typeof fn !== 'function') return false;
  const src = Function.prototype.toString.call(fn).replace(/\s+/g, '');
  return /^(function\w*\(\)\{\}|\(\)=>(\{\}|undefined)|\w+\(\)\{\})$/.test(src);
}

// Node verifies against well-known CAs when no `ca` is given; libpq only
// against ~/.postgresql/root.crt (or PGSSLROOTCERT).  Without either, the
// system's bundle stands in for Node's.
function defaultRootCertificates() {
  if (process.env.PGSSLROOTCERT) return null;
  const home = os.homedir();
  if (home && fs.existsSync(path.join(home, '.postgresql', 'root.crt'))) return null;
  for (const p of ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt',
    '/etc/ssl/cert.pem']) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function quote(v) {
  return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

module.exports = { ConnectionParameters };
