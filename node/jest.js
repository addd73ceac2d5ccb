'use strict';
// pgatomic/jest -- for each jest test file a database of its own, and for
// each test a transaction rolled back afterwards (Django's TestCase, for
// jest):
//
//   const { useDatabase } = require('pgatomic/jest');
//   const db = useDatabase({ setup: 'CREATE TABLE users (id serial PRIMARY KEY, email text)' });
//
//   test('signs up', async () => {
//     await db.query('INSERT INTO users (email) VALUES ($1)', ['a@b.c']);
//   });                                 // rolled back: the next test sees no user
//
// `db` is the file's Database.  Inside a test, db.query() and every
// db.transaction() run in the test's transaction (nested ones, managed or
// not, are its savepoints), so nothing a test writes outlives it; only
// { transaction: null } escapes it and commits for real.
//
// The server: options.dsn, else PGATOMIC_TEST_DSN (set it, or let
// pgatomic/jest/global-setup start one server for the whole run), else a
// throwaway server for this file alone: initdb and pg_ctl from PGBIN,
// `pg_config --bindir` or /usr/lib/postgresql/<newest>/bin, on a Unix
// socket in a temp directory, run as the postgres user when jest runs as
// root.  The file's database is created on it (CREATE DATABASE, so the
// DSN's role needs CREATEDB) and dropped after the file's last test.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { promisify } = require('util');
const { Database } = require('./lib/database');
const { kTestTransaction } = require('./lib/transaction');
const { conninfoWith } = require('./lib/conninfo');

const run = promisify(execFile);

// ---- a throwaway server -------------------------------------------------

async function pgBin() {
  const has = (dir) => dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'));
  if (process.env.PGBIN) {
    if (has(process.env.PGBIN)) return process.env.PGBIN;
    throw new Error(`pgatomic/jest: PGBIN=${process.env.PGBIN} holds no initdb and pg_ctl`);
  }
  try {
    const dir = (await run('pg_config', ['--bindir'])).stdout.trim();
    if (has(dir)) return dir;
  } catch (e) { /* no pg_config: look where Debian puts the servers */ }
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => has(path.join(base, v, 'bin'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length > 0) return path.join(base, versions[0], 'bin');
  throw new Error('pgatomic/jest: no PostgreSQL server binaries (initdb, pg_ctl) found: install the server, set PGBIN, or give a dsn');
}

// initdb refuses to run as root: the cluster then belongs to postgres.
// The caller's PG* variables (PGPORT, PGDATA, ...) are about some other
// server: they are kept away from initdb and pg_ctl.
function asOwner(file, args) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return root ? run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: '/', env })
    : run(file, args, { env });
}

// Starts a server; resolves to { dsn, stop() }.
async function startServer() {
  const bin = await pgBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgatomic-jest-'));
  fs.chmodSync(dir, 0o755);
  if (process.getuid && process.getuid() === 0) await run('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  try {
    await asOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
      '--locale=C.UTF-8', '--no-sync']);
    await asOwner(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60',
      '-o', `-c listen_addresses='' -k ${dir} -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start']);
  } catch (err) {
    // Nothing of a server that never started is left behind.
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  const stopNow = () => {
    // Best effort on exit: the postmaster's pid is the first line of its
    // file; SIGQUIT is an immediate shutdown.
    if (stopped) return;
    try {
      const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) { /* already gone */ }
  };
  process.once('exit', stopNow);
  return {
    dsn: `host=${dir} port=5432 user=postgres dbname=postgres`,
    async stop() {
      process.removeListener('exit', stopNow);
      stopped = true;
      await asOwner(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- one database per test file -------------------------------------------

function databaseName() {
  const file = (expect.getState && expect.getState().testPath) || 'test';
  const stem = path.basename(file).replace(/\.[^.]*$/, '').toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return `pgatomic_test_${stem.slice(0, 30)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

function useDatabase(options = {}) {
  const known = new Set(['dsn', 'setup', 'options']);
  for (const k of Object.keys(options)) {
    if (!known.has(k)) throw new TypeError(`pgatomic/jest: unknown option '${k}' (known: ${[...known].join(', ')})`);
  }
  const state = { server: null, admin: null, name: null, db: null, test: null };

  beforeAll(async () => {
    let dsn = options.dsn !== undefined ? options.dsn : process.env.PGATOMIC_TEST_DSN;
    if (!dsn) {
      state.server = await startServer();
      dsn = state.server.dsn;
    }
    state.name = databaseName();
    state.admin = new Database(dsn, { max: 1 });
    await state.admin.query(`CREATE DATABASE ${quoteIdent(state.name)}`, null, { transaction: null });
    state.url = conninfoWith(dsn, { dbname: state.name });
    state.db = new Database(state.url, options.options);
    if (typeof options.setup === 'string') await state.db.query(options.setup);
    else if (typeof options.setup === 'function') await options.setup(state.db);
  }, 120000);

  beforeEach(async () => {
    state.test = await state.db.startUnmanagedTransaction();
    state.db[kTestTransaction] = state.test;
  });

  afterEach(async () => {
    const t = state.test;
    state.test = null;
    if (state.db) state.db[kTestTransaction] = undefined;
    if (t && !t.finished) await t.rollback();
  });

  afterAll(async () => {
    try {
      if (state.db) await state.db.close();
      if (state.admin && state.name) {
        await state.admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(state.name)} WITH (FORCE)`, null,
          { transaction: null });
      }
    } finally {
      if (state.admin) await state.admin.close();
      if (state.server) await state.server.stop();
    }
  }, 60000);

  // The file's Database, reached through its methods (it exists only once
  // beforeAll ran); `url` is its connection string.
  return new Proxy({}, {
    get(_, key) {
      if (key === 'url') return state.url;
      if (!state.db) throw new Error('pgatomic/jest: the database is ready in beforeAll, tests and later hooks');
      const v = state.db[key];
      return typeof v === 'function' ? v.bind(state.db) : v;
    },
  });
}

// globalSetup / globalTeardown: one throwaway server for the whole run,
// handed to every test file through PGATOMIC_TEST_DSN.
async function globalSetup() {
  if (process.env.PGATOMIC_TEST_DSN) return;
  const server = await startServer();
  process.env.PGATOMIC_TEST_DSN = server.dsn;
  globalThis.__pgatomicJestServer = server;
}

async function globalTeardown() {
  const server = globalThis.__pgatomicJestServer;
  if (server) {
    delete process.env.PGATOMIC_TEST_DSN;
    globalThis.__pgatomicJestServer = undefined;
    await server.stop();
  }
}

module.exports = { useDatabase, startServer, globalSetup, globalTeardown };
