'use strict';
// Connection strings as libpq reads them: parsed by libpq itself
// (binding.parseConninfo: no network, no defaults filled in), merged with
// node-postgres-style options, and written back as keyword=value text.
const fs = require('fs');
const binding = require('./native');
const { ConnectionError } = require('./errors');

// node-postgres's names for the parts of a connection -> libpq's keywords.
const KEYWORDS = {
  host: 'host',
  port: 'port',
  user: 'user',
  password: 'password',
  database: 'dbname',
  application_name: 'application_name',
};
const CONNECTION_KEYS = new Set(['connectionString', 'ssl', ...Object.keys(KEYWORDS)]);

// Where TLS verification finds its roots when neither the string nor
// PGSSLROOTCERT names a file: the system's bundle, as node-postgres uses
// Node's (libpq 15 has no sslrootcert=system).
const SYSTEM_ROOTS = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem'];

function parse(conninfo) {
  try {
    return binding.parseConninfo(conninfo || '');
  } catch (err) {
    throw new ConnectionError(err.message);
  }
}

function quote(v) {
  return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function format(keywords) {
  return Object.entries(keywords).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}

// The string with some keywords replaced (e.g. { dbname }).
function conninfoWith(conninfo, overrides) {
  return format({ ...parse(conninfo), ...overrides });
}

function isSocket(host) {
  return host === '' || host.startsWith('/') || host.startsWith('@');
}

// libpq keywords for node-postgres's `ssl` option.
function sslKeywords(ssl, base) {
  if (ssl === false) return { sslmode: 'disable' };
  if (ssl !== true && (ssl === null || typeof ssl !== 'object' || Array.isArray(ssl))) {
    throw new TypeError('options.ssl must be a boolean or { rejectUnauthorized: boolean }');
  }
  if (typeof ssl === 'object') {
    for (const k of Object.keys(ssl)) {
      if (k !== 'rejectUnauthorized') {
        throw new TypeError(`options.ssl.${k} is not supported: name certificate files with sslrootcert, sslcert and sslkey in the connection string`);
      }
    }
    if (ssl.rejectUnauthorized === false) return { sslmode: 'require' };
  }
  const out = { sslmode: 'verify-full' };
  if (!base.sslrootcert && !process.env.PGSSLROOTCERT) {
    const roots = SYSTEM_ROOTS.find((f) => fs.existsSync(f));
    if (roots) out.sslrootcert = roots;
  }
  return out;
}

// The connection string a Database uses, from its string and its options
// (node-postgres's keys win over the string's).  Returns null when neither
// says anything (libpq's defaults then apply, PG* variables).
function connectionFromOptions(connectionString, options) {
  const given = Object.keys(KEYWORDS).filter((k) => options[k] !== undefined);
  if (given.length === 0 && options.ssl === undefined) return connectionString;
  const base = parse(connectionString);
  const out = { ...base };
  for (const k of given) {
    const v = options[k];
    const ok = k === 'port' ? (Number.isInteger(v) && v > 0 && v < 65536) || (typeof v === 'string' && v !== '')
      : typeof v === 'string';
    if (!ok) throw new TypeError(`options.${k} must be ${k === 'port' ? 'a port number' : 'a string'}`);
    out[KEYWORDS[k]] = String(v);
  }
  if (options.ssl !== undefined) {
    Object.assign(out, sslKeywords(options.ssl, base));
    if (options.ssl !== false) {
      // libpq never uses TLS over a Unix-domain socket, whatever sslmode
      // says: refuse rather than connect in the clear.
      const hosts = (out.host !== undefined ? out.host : process.env.PGHOST || '').split(',');
      const socket = hosts.find(isSocket);
      if (socket !== undefined && !out.hostaddr) {
        throw new TypeError(`options.ssl asks for TLS, but host ${JSON.stringify(socket || '(the default socket)')} is a Unix-domain socket, where libpq never uses TLS: give a TCP host`);
      }
    }
  }
  return format(out);
}

module.exports = { parse, quote, format, conninfoWith, connectionFromOptions, CONNECTION_KEYS };
