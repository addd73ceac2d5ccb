'use strict';
// connect() takes node-postgres's options (host, port, user, password,
// database, ssl, connectionString, application_name) and honours each one or
// refuses it: never another server, never TLS dropped in silence, never an
// unknown key ignored.  A server that refuses the session gives its
// SQLSTATE, as pg's errors do.  Runs against a server of its own on TCP
// with TLS (scripts/pgtmp, PGTMP_SSL=1: scram-sha-256 on 127.0.0.1, a CA
// of its own, and an unrelated CA).
const path = require('path');
const { execFileSync } = require('child_process');
const { pgatomic } = require('./helpers');

jest.setTimeout(120000);
const PGTMP = path.join(__dirname, '..', '..', 'scripts', 'pgtmp');
let env;       // the TLS server's exports
let local;     // a Database on its Unix socket, as the superuser

beforeAll(async () => {
  const out = execFileSync(PGTMP, ['start'], { env: { ...process.env, PGTMP_SSL: '1' }, encoding: 'utf8' });
  env = {};
  for (const m of out.matchAll(/(\w+)=('[^']*'|\S+)/g)) env[m[1]] = m[2].replace(/^'|'$/g, '');
  local = pgatomic.connect(`host=${env.PGHOST} port=${env.PGPORT} user=postgres dbname=postgres`, { max: 1 });
  await local.query("CREATE ROLE co_user LOGIN PASSWORD 'co-secret'");
  await local.query('CREATE DATABASE co_db OWNER co_user');
});
afterAll(async () => {
  if (local) await local.close();
  if (env) execFileSync(PGTMP, ['stop', env.PGTMP_DIR]);
});

const tcp = () => ({ host: '127.0.0.1', port: Number(env.PGTMP_TCP_PORT), user: 'co_user', password: 'co-secret' });

async function session(db) {
  try {
    return (await db.query(`SELECT current_user AS u, current_database() AS d,
      current_setting('application_name') AS app,
      (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl`)).rows[0];
  } finally {
    await db.close();
  }
}

test('pg_style_options_are_honoured', async () => {
  const s = await session(pgatomic.connect({ ...tcp(), database: 'co_db', application_name: 'co-app',
    ssl: { rejectUnauthorized: false } }));
  expect(s).toEqual({ u: 'co_user', d: 'co_db', app: 'co-app', ssl: true });
  // The same keys as the second argument of connect(url, options).
  const s2 = await session(pgatomic.connect('dbname=postgres', { ...tcp(), ssl: false }));
  expect(s2).toEqual({ u: 'co_user', d: 'postgres', app: 'pgatomic', ssl: false });
  // And inside new Database(options), with a string given as connectionString.
  const s3 = await session(new pgatomic.Database({ connectionString: `postgresql://co_user:co-secret@127.0.0.1:${env.PGTMP_TCP_PORT}/co_db?sslmode=disable` }));
  expect(s3).toMatchObject({ u: 'co_user', d: 'co_db', ssl: false });
});

test('options_override_the_same_part_of_the_connection_string', async () => {
  const url = `postgresql://nobody:wrong@127.0.0.1:1/nodb?sslmode=disable`;
  const s = await session(pgatomic.connect(url, { ...tcp(), database: 'co_db' }));
  expect(s).toMatchObject({ u: 'co_user', d: 'co_db', ssl: false });
});

test('ssl_true_verifies_the_server_and_never_falls_back_to_plain_text', async () => {
  const base = { ...tcp(), host: 'localhost', database: 'co_db' };
  // The right CA and host name: TLS, verified.
  const ok = await session(pgatomic.connect(`sslrootcert=${env.PGTMP_SSL_CA}`, { ...base, ssl: true }));
  expect(ok.ssl).toBe(true);
  for (const roots of [env.PGTMP_SSL_WRONG_CA, undefined]) {
    // Another CA, or the system's roots (which never signed a test CA).
    const db = pgatomic.connect(roots ? `sslrootcert=${roots}` : '', { ...base, ssl: true });
    const e = await db.query('SELECT 1').catch((x) => x);
    await db.close();
    expect(e).toBeInstanceOf(pgatomic.ConnectionError);
    expect(e.message).toMatch(/certificate|SSL|root/i);
  }
  // The right CA, but a host name the certificate does not name.
  const { host, ...rest } = base;
  const db = pgatomic.connect(`host=pga-not-in-the-cert hostaddr=127.0.0.1 sslrootcert=${env.PGTMP_SSL_CA}`,
    { ...rest, ssl: true });
  const e = await db.query('SELECT 1').catch((x) => x);
  await db.close();
  expect(e).toBeInstanceOf(pgatomic.ConnectionError);
  expect(e.message).toMatch(/does not match host name/);
  void host;
});

test('ssl_over_a_unix_socket_is_refused', () => {
  for (const options of [{ host: env.PGHOST, ssl: true }, { host: env.PGHOST, ssl: { rejectUnauthorized: false } }]) {
    expect(() => pgatomic.connect(options)).toThrow(/Unix-domain socket, where libpq never uses TLS/);
  }
  expect(() => pgatomic.connect(`host=${env.PGHOST}`, { ssl: true })).toThrow(TypeError);
  // ssl: false over a socket is what it says.
  pgatomic.connect({ host: env.PGHOST, ssl: false }).close();
});

test('unknown_and_unsupported_options_are_refused', () => {
  const bad = [
    [{ hots: 'localhost' }, /Unknown option 'hots'/],
    [{ databse: 'x' }, /Unknown option 'databse'/],
    [{ keepAlive: true }, /Unknown option 'keepAlive'/],
    [{ statement_timeout: 5 }, /Unknown option 'statement_timeout'/],
    [{ types: { int8: 'string', date: 'string' } }, /Unknown option 'types.date'/],
    [{ ssl: { ca: '-----BEGIN CERTIFICATE-----' } }, /options.ssl.ca is not supported/],
    [{ ssl: 'require' }, /options.ssl must be/],
    [{ port: 'x'.repeat(0) }, /options.port must be a port number/],
    [{ port: 70000 }, /options.port must be a port number/],
    [{ host: 5 }, /options.host must be a string/],
  ];
  for (const [options, message] of bad) {
    expect(() => pgatomic.connect(options)).toThrow(TypeError);
    expect(() => pgatomic.connect(options)).toThrow(message);
    expect(() => new pgatomic.Database(undefined, options)).toThrow(message);
  }
  expect(() => pgatomic.connect('dbname=x', { connectionString: 'dbname=y' })).toThrow(/connection string once/);
});

test('refused_sessions_carry_the_server_sqlstate', async () => {
  const cases = [
    [{ ...tcp(), database: 'co_no_such_db', ssl: false }, '3D000', /database "co_no_such_db" does not exist/],
    [{ ...tcp(), password: 'wrong', ssl: false }, '28P01', /password authentication failed/],
    [{ host: env.PGHOST, port: env.PGPORT, user: 'co_no_such_role' }, '28000', /role "co_no_such_role" does not exist/],
  ];
  for (const [options, code, message] of cases) {
    const db = pgatomic.connect(options);
    const e = await db.query('SELECT 1').catch((x) => x);
    await db.close();
    expect(e).toBeInstanceOf(pgatomic.ConnectionError);
    expect({ code: e.code, message: message.test(e.message) }).toEqual({ code, message: true });
    expect(e.message).not.toMatch(/wrong|co-secret/);
  }
  // No server answered: no SQLSTATE.
  const db = pgatomic.connect({ host: '127.0.0.1', port: 1, ssl: false });
  const e = await db.query('SELECT 1').catch((x) => x);
  await db.close();
  expect(e).toBeInstanceOf(pgatomic.ConnectionError);
  expect(e.code).toBeUndefined();
});
