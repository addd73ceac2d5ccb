'use strict';
// require('pgatomic/pg') behaves as node-postgres: its query forms, result
// shape, type parsers, parameter rules, errors and events.  The expected
// values are pg 8's documented (and observed) behaviour.
const path = require('path');
const { execFileSync } = require('child_process');
const pg = require('../../node/pg');

const T = 'pgc_items';
let client;

beforeAll(async () => {
  client = new pg.Client();
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${T}`);
  await client.query(`CREATE TABLE ${T} (id serial PRIMARY KEY, name text UNIQUE, n int,
    at timestamptz, data jsonb, tags text[], raw bytea)`);
});

afterAll(async () => {
  await client.query(`DROP TABLE IF EXISTS ${T}`);
  await client.end();
});

beforeEach(() => client.query(`TRUNCATE ${T} RESTART IDENTITY`));

test('pg_module_exports_the_surface_of_pg', () => {
  for (const name of ['Client', 'Pool', 'DatabaseError', 'escapeIdentifier', 'escapeLiteral']) {
    expect(typeof pg[name]).toBe('function');
  }
  expect(typeof pg.types.getTypeParser).toBe('function');
  expect(typeof pg.types.setTypeParser).toBe('function');
  expect(pg.types.builtins.INT8).toBe(20);
  expect(pg.types.arrayParser.create('{1,2}', Number).parse()).toEqual([1, 2]);
  expect(pg.defaults.port).toBe(5432);
  expect(pg.native).toBe(null);
  expect(pg.escapeIdentifier('a"b')).toBe('"a""b"');
  expect(pg.escapeLiteral("it's")).toBe("'it''s'");
  expect(pg.escapeLiteral('a\\b')).toBe(" E'a\\\\b'");
  expect(client.escapeLiteral(null)).toBe("''");
});

test('pg_module_imports_as_esm_and_by_package_name', () => {
  const root = path.join(__dirname, '..', '..');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import pg, { Client, Pool, types, DatabaseError } from 'pgatomic/pg';
    import cjs from 'pgatomic/pg';
    const req = (await import('node:module')).createRequire(import.meta.url);
    console.log([typeof pg.Client, Client === pg.Client, Pool === pg.Pool,
      typeof types.getTypeParser, DatabaseError === req('pgatomic/pg').DatabaseError,
      cjs === req('pgatomic/pg')].join(' '));`], { cwd: root, encoding: 'utf8' });
  expect(out.trim()).toBe('function true true function true true');
});

test('pg_query_forms_callback_promise_and_config_object', async () => {
  const viaPromise = await client.query('SELECT $1::int AS a', [1]);
  expect(viaPromise.rows).toEqual([{ a: 1 }]);
  const viaCallback = await new Promise((resolve, reject) => {
    const ret = client.query('SELECT $1::text AS b', ['x'], (err, res) => (err ? reject(err) : resolve(res)));
    expect(ret).toBeUndefined();
  });
  expect(viaCallback.rows).toEqual([{ b: 'x' }]);
  const noValues = await new Promise((resolve) => client.query('SELECT 2 AS c', (err, res) => resolve(res)));
  expect(noValues.rows).toEqual([{ c: 2 }]);
  const config = await client.query({ text: 'SELECT $1::int + $2::int AS d', values: [2, 3] });
  expect(config.rows).toEqual([{ d: 5 }]);
  const valuesBeside = await client.query({ text: 'SELECT $1::int AS e' }, [7]);
  expect(valuesBeside.rows).toEqual([{ e: 7 }]);
  expect(() => client.query(null)).toThrow(new TypeError('Client was passed a null or undefined query'));
  expect(() => client.query('SELECT 1', [], 'nope')).toThrow(new TypeError('callback is not a function'));
});

test('pg_result_has_own_command_rowCount_oid_rows_fields', async () => {
  const ins = await client.query(`INSERT INTO ${T} (name, n) VALUES ('a', 1), ('b', 2)`);
  for (const key of ['command', 'rowCount', 'oid', 'rows', 'fields']) {
    expect(Object.prototype.hasOwnProperty.call(ins, key)).toBe(true);
  }
  expect([ins.command, ins.rowCount, ins.oid, ins.rows, ins.fields]).toEqual(['INSERT', 2, 0, [], []]);
  const upd = await client.query(`UPDATE ${T} SET n = n + 1`);
  expect([upd.command, upd.rowCount, upd.oid]).toEqual(['UPDATE', 2, null]);
  const sel = await client.query(`SELECT id, name FROM ${T} ORDER BY id`);
  expect(sel.command).toBe('SELECT');
  expect(sel.rowCount).toBe(2);
  expect(sel.fields.map((f) => [f.name, f.dataTypeID, f.format])).toEqual([['id', 23, 'text'], ['name', 25, 'text']]);
  const ddl = await client.query('CREATE TEMP TABLE pgc_tmp (x int)');
  expect([ddl.command, ddl.rowCount, ddl.rows]).toEqual(['CREATE', null, []]);
  const empty = await client.query('');
  expect([empty.command, empty.rowCount, empty.rows, empty.fields]).toEqual([null, null, [], []]);
});

test('pg_multi_statement_string_gives_an_array_of_results', async () => {
  const res = await client.query(`SET search_path TO public; SELECT 1 AS one; INSERT INTO ${T} (name) VALUES ('m')`);
  expect(Array.isArray(res)).toBe(true);
  expect(res.map((r) => r.command)).toEqual(['SET', 'SELECT', 'INSERT']);
  expect(res[1].rows).toEqual([{ one: 1 }]);
  expect(res[2].rowCount).toBe(1);
  // A failing script rejects with its error; the commands before it ran
  // as one implicit transaction, so nothing of it stays.
  const e = await client.query(`INSERT INTO ${T} (name) VALUES ('z'); SELECT 1/0`).catch((x) => x);
  expect(e).toBeInstanceOf(pg.DatabaseError);
  expect(e.code).toBe('22012');
  expect((await client.query(`SELECT count(*)::int AS n FROM ${T} WHERE name = 'z'`)).rows[0].n).toBe(0);
});

test('pg_values_go_through_type_parsers_query_then_client_then_global', async () => {
  const sql = "SELECT 5::int8 AS big, 1.50::numeric AS num, '2024-01-02'::date AS day, " +
    "'{1,2}'::int[] AS arr, '{\"a\":1}'::json AS j, true AS b, '\\x0102'::bytea AS bytes, NULL::int AS nothing";
  const plain = (await client.query(sql)).rows[0];
  expect(plain).toEqual({
    big: '5', num: '1.50', day: new Date(2024, 0, 2), arr: [1, 2], j: { a: 1 }, b: true,
    bytes: Buffer.from([1, 2]), nothing: null,
  });
  // Global (pg-types) < client < query.
  const int8 = pg.types.getTypeParser(20);
  pg.types.setTypeParser(20, (v) => `global:${v}`);
  try {
    expect((await client.query('SELECT 5::int8 AS v')).rows[0].v).toBe('global:5');
    const other = new pg.Client({ types: { getTypeParser: (oid) => (oid === 20 ? (v) => `config:${v}` : pg.types.getTypeParser(oid)) } });
    await other.connect();
    expect((await other.query('SELECT 5::int8 AS v')).rows[0].v).toBe('config:5');
    other.setTypeParser(20, (v) => `client:${v}`);
    expect((await other.query('SELECT 5::int8 AS v')).rows[0].v).toBe('client:5');
    const types = { getTypeParser: () => (v) => `query:${v}` };
    expect((await other.query({ text: 'SELECT 5::int8 AS v', types })).rows[0].v).toBe('query:5');
    await other.end();
  } finally {
    pg.types.setTypeParser(20, int8);
  }
  const throwing = { getTypeParser: () => () => { throw new Error('parser says no'); } };
  await expect(client.query({ text: 'SELECT 1 AS v', types: throwing })).rejects.toThrow('parser says no');
});

test('pg_rowMode_array_and_repeated_column_names', async () => {
  const arr = await client.query({ text: 'SELECT 1 AS a, 2 AS a, NULL AS b', rowMode: 'array' });
  expect(arr.rows).toEqual([[1, 2, null]]);
  expect(arr.fields.map((f) => f.name)).toEqual(['a', 'a', 'b']);
  const obj = await client.query('SELECT 1 AS a, 2 AS a');
  expect(obj.rows).toEqual([{ a: 2 }]);
});

test('pg_parameters_follow_prepareValue_and_travel_untyped', async () => {
  // A number compared with a text column: pg sends text, so this matches.
  await client.query(`INSERT INTO ${T} (name, n) VALUES ($1, $2)`, ['42', '7']);
  expect((await client.query(`SELECT n FROM ${T} WHERE name = $1`, [42])).rows).toEqual([{ n: 7 }]);
  // A Date is sent as local time with its offset: the same instant.
  const at = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
  await client.query(`UPDATE ${T} SET at = $1, data = $2, tags = $3, raw = $4`,
    [at, { k: [1, 'two'] }, ['a', 'b"c', null, 'd\\e'], Buffer.from('hi')]);
  const row = (await client.query(`SELECT at, data, tags, raw FROM ${T}`)).rows[0];
  expect(row.at.getTime()).toBe(at.getTime());
  expect(row.data).toEqual({ k: [1, 'two'] });
  expect(row.tags).toEqual(['a', 'b"c', null, 'd\\e']);
  expect(row.raw).toEqual(Buffer.from('hi'));
  const custom = { toPostgres: () => 'from-toPostgres' };
  expect((await client.query('SELECT $1::text AS v, $2::text AS u, $3::text AS b', [custom, undefined, false])).rows[0])
    .toEqual({ v: 'from-toPostgres', u: null, b: 'false' });
  expect((await client.query('SELECT $1::int[] AS v', [[[1, 2], [3, 4]]])).rows[0].v).toEqual([[1, 2], [3, 4]]);
  const loop = { toPostgres() { return this; } };
  await expect(client.query('SELECT $1::text', [loop])).rejects.toThrow(/circular reference detected/);
  await expect(client.query('SELECT $1::text', [{ big: 1n }])).rejects.toThrow(TypeError);
});

test('pg_server_error_has_pg_fields_and_class', async () => {
  await client.query(`INSERT INTO ${T} (name) VALUES ('dup')`);
  const e = await client.query(`INSERT INTO ${T} (name) VALUES ('dup')`).catch((x) => x);
  expect(e).toBeInstanceOf(pg.DatabaseError);
  expect(e).toBeInstanceOf(Error);
  expect(e.name).toBe('error');
  expect(e.message).toBe(`duplicate key value violates unique constraint "${T}_name_key"`);
  expect(e).toMatchObject({
    severity: 'ERROR', code: '23505', detail: 'Key (name)=(dup) already exists.',
    schema: 'public', table: T, constraint: `${T}_name_key`, routine: '_bt_check_unique',
  });
  expect(e.file).toMatch(/\.c$/);
  expect(e.sqlState).toBe('23505');
  expect(e.messagePrimary).toBe(e.message);
  expect(e.messageDetail).toBe(e.detail);
  const syntax = await client.query('SELEC 1').catch((x) => x);
  expect([syntax.code, syntax.position]).toEqual(['42601', '1']);
  const plpgsql = await client.query('DO $$BEGIN RAISE EXCEPTION \'boom\' USING HINT = \'h\'; END$$').catch((x) => x);
  expect(plpgsql).toMatchObject({ message: 'boom', code: 'P0001', hint: 'h' });
  expect(plpgsql.where).toMatch(/PL\/pgSQL function/);
  // The client is still usable after an error, as in pg.
  expect((await client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
});

test('pg_wrong_parameter_count_is_the_servers_error', async () => {
  const e = await client.query('SELECT $1::int, $2::int', [1]).catch((x) => x);
  expect(e).toBeInstanceOf(pg.DatabaseError);
  expect(e.code).toBe('08P01');
  expect(e.message).toBe('bind message supplies 1 parameters, but prepared statement "" requires 2');
});

test('pg_named_statement_reused_or_refused_like_pg', async () => {
  const a = await client.query({ name: 'pgc-named', text: 'SELECT $1::int AS v', values: [1] });
  const b = await client.query({ name: 'pgc-named', text: 'SELECT $1::int AS v', values: [2] });
  expect([a.rows[0].v, b.rows[0].v]).toEqual([1, 2]);
  await expect(client.query({ name: 'pgc-named', text: 'SELECT 2' }))
    .rejects.toThrow("Prepared statements must be unique - 'pgc-named' was used for a different statement");
});

test('pg_processID_parameterStatus_and_transaction_status', async () => {
  const c = new pg.Client();
  const seen = {};
  c.connection.on('parameterStatus', (m) => { seen[m.parameterName] = m.parameterValue; });
  await c.connect();
  expect(c.processID).toBe((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  expect(seen.server_version).toMatch(/^\d+/);
  expect(seen.standard_conforming_strings).toBe('on');
  expect(c.getTransactionStatus()).toBe('I');
  await c.query('BEGIN');
  await c.query('SELECT 1');
  expect(c.getTransactionStatus()).toBe('T');
  await c.query('ROLLBACK');
  await c.end();
});

test('pg_client_cannot_connect_twice_and_queries_wait_for_connect', async () => {
  const c = new pg.Client();
  const early = c.query('SELECT 1 AS early');
  await c.connect();
  expect((await early).rows).toEqual([{ early: 1 }]);
  await expect(c.connect()).rejects.toThrow('Client has already been connected. You cannot reuse a client.');
  await c.end();
  await expect(c.query('SELECT 1')).rejects.toThrow('Client was closed and is not queryable');
});

test('pg_end_emits_end_and_callback', async () => {
  const c = new pg.Client();
  await c.connect();
  const events = [];
  c.on('end', () => events.push('end'));
  await new Promise((resolve) => c.end(resolve));
  expect(events).toEqual(['end']);
  // end() of a client never connected resolves at once.
  await new pg.Client().end();
});

test('pg_terminated_backend_emits_error_and_the_query_rejects', async () => {
  const c = new pg.Client();
  await c.connect();
  const errors = [];
  c.on('error', (e) => errors.push(e));
  const ended = new Promise((resolve) => c.on('end', resolve));
  await client.query('SELECT pg_terminate_backend($1)', [c.processID]);
  const e = await c.query('SELECT 1').catch((x) => x);
  expect(e).toBeInstanceOf(Error);
  await ended;
  expect(errors.map((x) => x.message)).toEqual(['Connection terminated unexpectedly']);
  await expect(c.query('SELECT 1')).rejects.toThrow('Client has encountered a connection error and is not queryable');
});

test('pg_connect_failures_carry_pg_codes', async () => {
  // Worded as Node's net module words it, which is what pg passes on.
  const refused = await new pg.Client({ host: '127.0.0.1', port: 1 }).connect().catch((x) => x);
  expect(refused).toMatchObject({
    message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED', errno: -111,
    syscall: 'connect', address: '127.0.0.1', port: 1,
  });
  const nosocket = await new pg.Client({ host: '/nonexistent', port: 5 }).connect().catch((x) => x);
  expect([nosocket.message, nosocket.code]).toEqual(['connect ENOENT /nonexistent/.s.PGSQL.5', 'ENOENT']);
  const noname = await new pg.Client({ host: 'no-such-host.invalid' }).connect().catch((x) => x);
  expect([noname.message, noname.code]).toEqual(['getaddrinfo ENOTFOUND no-such-host.invalid', 'ENOTFOUND']);
  const nodb = await new pg.Client({ database: 'pgc_no_such_database' }).connect().catch((x) => x);
  expect(nodb).toBeInstanceOf(pg.DatabaseError);
  expect([nodb.code, nodb.severity]).toEqual(['3D000', 'FATAL']);
  expect(nodb.message).toBe('database "pgc_no_such_database" does not exist');
  const viaCallback = await new Promise((resolve) =>
    new pg.Client({ host: '127.0.0.1', port: 1 }).connect((err) => resolve(err)));
  expect(viaCallback.code).toBe('ECONNREFUSED');
});

test('pg_tls_options_are_honoured_or_refused_never_dropped', () => {
  expect(() => new pg.Client({ ssl: { ciphers: 'HIGH' } }).connectionParameters.toConninfo(null))
    .toThrow(/the ssl option "ciphers" is not supported/);
  expect(() => new pg.Client({ stream: () => null })).toThrow(/stream/);
  const info = (config) => new pg.Client(config).connectionParameters.toConninfo(null).conninfo;
  expect(info({ ssl: false })).toMatch(/sslmode='disable'/);
  expect(info({ ssl: true })).toMatch(/sslmode='verify-full'/);
  expect(info({ ssl: { rejectUnauthorized: false } })).toMatch(/sslmode='require'/);
  expect(info({ ssl: { checkServerIdentity() {} } })).toMatch(/sslmode='verify-ca'/);
  expect(() => info({ ssl: { checkServerIdentity: (h) => new Error(h) } })).toThrow(/checkServerIdentity/);
  expect(info({ connectionString: 'postgres://u@h/db?sslmode=no-verify' })).toMatch(/sslmode='require'/);
  expect(info({ statement_timeout: 1000, options: '-c search_path=x' }))
    .toMatch(/options='-c search_path=x -c statement_timeout=1000'/);
});

test('pg_statement_timeout_and_query_timeout', async () => {
  const c = new pg.Client({ statement_timeout: 50 });
  await c.connect();
  const e = await c.query('SELECT pg_sleep(2)').catch((x) => x);
  expect(e.code).toBe('57014');
  await c.end();
  const d = new pg.Client({ query_timeout: 50 });
  await d.connect();
  await expect(d.query('SELECT pg_sleep(0.5)')).rejects.toThrow('Query read timeout');
  await d.end();
});

test('pg_cursor_reads_in_chunks_and_later_queries_wait', async () => {
  const Cursor = require('pg-cursor');
  const c = new pg.Client();
  await c.connect();
  const cursor = c.query(new Cursor('SELECT g AS n, g::text AS t FROM generate_series(1, $1::int) g', [7]));
  // Issued after the cursor: waits until it is read to the end, as in pg.
  let after = null;
  const later = c.query('SELECT 42 AS v').then((r) => { after = r.rows[0].v; });
  expect((await cursor.read(3)).map((r) => r.n)).toEqual([1, 2, 3]);
  expect(after).toBe(null);
  expect((await cursor.read(3)).map((r) => r.t)).toEqual(['4', '5', '6']);
  expect(await cursor.read(3)).toEqual([{ n: 7, t: '7' }]);
  expect(await cursor.read(3)).toEqual([]);
  await cursor.close();
  await later;
  expect(after).toBe(42);
  // Closed early, then the client goes on; a failing cursor reports the
  // server's error.
  const early = c.query(new Cursor('SELECT g FROM generate_series(1, 100) g'));
  expect((await early.read(2)).length).toBe(2);
  await early.close();
  const bad = c.query(new Cursor('SELECT 1/0'));
  await expect(bad.read(1)).rejects.toMatchObject({ code: '22012' });
  expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  await c.end();
});

test('pg_query_stream_streams_rows', async () => {
  const QueryStream = require('pg-query-stream');
  const pool = new pg.Pool({ max: 1 });
  const c = await pool.connect();
  const rows = [];
  const stream = c.query(new QueryStream('SELECT g AS n FROM generate_series(1, 250) g', [], { batchSize: 100 }));
  for await (const row of stream) rows.push(row.n);
  expect(rows.length).toBe(250);
  expect(rows[249]).toBe(250);
  c.release();
  // An INSERT ... RETURNING streamed, and a stream stopped early.  A table
  // every session sees: through a transaction-mode pooler the INSERT may
  // run on another server session than the CREATE.
  await pool.query('CREATE TABLE IF NOT EXISTS pgc_stream (v int)');
  const c2 = await pool.connect();
  const ins = c2.query(new QueryStream('INSERT INTO pgc_stream SELECT g FROM generate_series(1, 5) g RETURNING v'));
  const got = [];
  for await (const row of ins) got.push(row.v);
  expect(got).toEqual([1, 2, 3, 4, 5]);
  const partial = c2.query(new QueryStream('SELECT g FROM generate_series(1, 1000) g', [], { batchSize: 10 }));
  for await (const row of partial) { if (row.g === 3) break; }
  expect((await c2.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  // A stream whose statement fails emits the server's error and leaves
  // the client usable.
  const failing = c2.query(new QueryStream('SELECT nope FROM pgc_nowhere'));
  const err = await new Promise((resolve) => failing.on('error', resolve).resume());
  expect(err.code).toBe('42P01');
  expect((await c2.query('SELECT 2 AS ok')).rows).toEqual([{ ok: 2 }]);
  await c2.query('DROP TABLE pgc_stream');
  c2.release();
  await pool.end();
});

test('pg_bad_parameters_fail_as_in_pg', async () => {
  // A NUL inside text: the server's refusal, as pg gets it.
  const nul = await client.query('SELECT $1::text AS v', ['a\u0000b']).catch((x) => x);
  expect(nul).toBeInstanceOf(pg.DatabaseError);
  expect([nul.code, nul.message]).toEqual(['22021', 'invalid byte sequence for encoding "UTF8": 0x00']);
  // A lone surrogate becomes U+FFFD, as pg's UTF-8 encoding makes it.
  expect((await client.query('SELECT $1::text AS v', ['x\ud800'])).rows[0].v).toBe('x\ufffd');
  // Text the server cannot read as the type: its own error.
  const notInt = await client.query('SELECT $1::int AS v', ['x']).catch((x) => x);
  expect([notInt.code, notInt.message]).toEqual(['22P02', 'invalid input syntax for type integer: "x"']);
  const badDate = await client.query('SELECT $1::timestamptz AS v', [new Date(NaN)]).catch((x) => x);
  expect(badDate.code).toBe('22007');
  // The client goes on.
  expect((await client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
});

function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

test('pg_idle_client_notices_a_terminated_backend', async () => {
  const c = new pg.Client();
  await c.connect();
  const errors = [];
  c.on('error', (e) => errors.push(e.message));
  const ended = once(c, 'end');
  // No query on c: the server's FATAL and the closed socket are noticed
  // while it is idle, as pg notices them.
  await client.query('SELECT pg_terminate_backend($1)', [c.processID]);
  await ended;
  expect(errors).toEqual(['Connection terminated unexpectedly']);
  await expect(c.query('SELECT 1')).rejects.toThrow('Client has encountered a connection error and is not queryable');
});

test('pg_control_statement_notices_a_terminated_backend', async () => {
  // knex's #3690: BEGIN and SAVEPOINT cost no round trip, so only a check
  // of the socket tells that the backend died right before them; without
  // it an empty transaction's COMMIT would succeed on a dead session.
  const c = new pg.Client();
  await c.connect();
  const errors = [];
  c.on('error', (e) => errors.push(e.message));
  const ended = once(c, 'end');
  try {
    await c.query('BEGIN');
    // Synchronously, so the event loop (and the idle watch) does not run
    // before SAVEPOINT: terminate, then wait until the backend has exited
    // (its FATAL is on the socket by then).
    const psql = (sql) => execFileSync('psql', ['-X', '-Atc', sql], { encoding: 'utf8' }).trim();
    psql(`SELECT pg_terminate_backend(${c.processID})`);
    while (psql(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${c.processID}`) !== '0') {
      execFileSync('sleep', ['0.05']);
    }
    await expect(c.query('SAVEPOINT s1')).rejects.toThrow('Client has encountered a connection error and is not queryable');
    await expect(c.query('COMMIT')).rejects.toThrow('not queryable');
    await ended;
    expect(errors).toEqual(['Connection terminated unexpectedly']);
  } finally {
    // A failed expectation must not leave a live client keeping jest's
    // process alive after the run.
    await c.end().catch(() => {});
  }
});

test('pg_listen_notifications_arrive_as_events', async () => {
  const listener = new pg.Client();
  await listener.connect();
  await listener.query('LISTEN pgc_channel');
  // From another session, while the listener is idle.
  const got = once(listener, 'notification');
  await client.query("SELECT pg_notify('pgc_channel', 'hello')");
  expect(await got).toEqual({ name: 'notification', processId: client.processID, channel: 'pgc_channel', payload: 'hello' });
  // Its own NOTIFY, read with the statement's results: the event comes
  // before the statement settles.
  const seen = [];
  listener.on('notification', (n) => seen.push(n.payload));
  await listener.query("NOTIFY pgc_channel, 'self'");
  expect(seen).toEqual(['self']);
  await listener.end();
});

test('pg_unref_lets_the_process_exit_with_an_idle_client', () => {
  const root = path.join(__dirname, '..', '..');
  const run = (body) => execFileSync(process.execPath, ['-e', `
    const pg = require('./node/pg');
    (async () => { const c = new pg.Client(); await c.connect(); ${body} console.log('idle'); })();`],
  { cwd: root, encoding: 'utf8', timeout: 5000, env: process.env });
  expect(run('c.unref();').trim()).toBe('idle');
  // Without unref() an idle connected client keeps the process alive, as
  // pg's socket does: the run is cut by the timeout.
  expect(() => run('')).toThrow(/ETIMEDOUT|timed out|SIGTERM/);
});

