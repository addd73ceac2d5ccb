'use strict';
// Bad input rejects with a clear error of the right class: no crash, no
// hang, no leaked connection.
const { pgatomic, openDb } = require('./helpers');

let db;

beforeAll(() => { db = openDb({ max: 2 }); });
afterAll(() => db.close());

afterEach(() => {
  // Nothing borrowed is kept: every connection is back in the pool.
  const s = db.poolStats();
  expect(s.idle).toBe(s.total);
});

test('non_string_sql_rejects_with_TypeError', async () => {
  for (const sql of [undefined, null, 42, {}, ['SELECT 1'], Symbol('x')]) {
    const e = await db.query(sql).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/"sql" argument must be a string/);
  }
});

test('params_not_an_array_rejects_with_TypeError', async () => {
  const e = await db.query('SELECT $1::int', 5).catch((x) => x);
  expect(e).toBeInstanceOf(TypeError);
});

test('wrong_parameter_count_rejects_with_DatabaseError', async () => {
  const e = await db.query('SELECT $1::int + $2::int AS s', [1]).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.DatabaseError);
  expect(e.code).toBe('08P01');
  expect(e.message).toBe('bind message supplies 1 parameters, but prepared statement "" requires 2');
  const e2 = await db.query('SELECT 1', [1, 2]).catch((x) => x);
  expect(e2).toBeInstanceOf(pgatomic.DatabaseError);
  expect((await db.query('SELECT $1::int + $2::int AS s', [1, 2])).rows[0].s).toBe(3);
});

test('unsupported_values_reject_with_TypeError', async () => {
  class Thing {}
  for (const v of [Symbol('s'), () => 1, new Map(), new Thing(), new Date(NaN)]) {
    const e = await db.query('SELECT $1 AS v', [v]).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/^Cannot bind parameter \$1/);
  }
  const nested = await db.query('SELECT $1 AS v', [[1, Symbol('x')]]).catch((x) => x);
  expect(nested).toBeInstanceOf(TypeError);
  const big = await db.query('SELECT $1 AS v', [{ n: 1n }]).catch((x) => x);
  expect(big).toBeInstanceOf(TypeError);  // JSON.stringify cannot serialise a BigInt
  // Booleans, numbers and strings in one array are fine (the column
  // decides, as in pg), beside a Buffer too: a bytea[] column stores
  // them as pg's do.
  const mixed = await db.query('SELECT ($1::bytea[])::text AS v', [[true, 1, Buffer.from('a')]]);
  expect(mixed.rows[0].v).toBe('{"\\\\x74727565","\\\\x31","\\\\x61"}');
  const nul = await db.query('SELECT $1 AS v', ['a\u0000b']).catch((x) => x);
  expect(nul).toBeInstanceOf(TypeError);
});

test('bad_input_inside_a_transaction_leaves_it_usable', async () => {
  const r = await db.transaction(async (t) => {
    await expect(t.query('SELECT $1', [Symbol('x')])).rejects.toThrow(TypeError);
    return (await t.query('SELECT 5 AS five')).rows[0].five;
  });
  expect(r).toBe(5);
});

test('callback_not_a_function_rejects_with_TypeError', async () => {
  const e = await db.transaction({ isolationLevel: 'SERIALIZABLE' }, 'not a function').catch((x) => x);
  expect(e).toBeInstanceOf(TypeError);
  expect(e.message).toBe('"callback" must be a function');
  const e2 = await db.transaction(5).catch((x) => x);
  expect(e2).toBeInstanceOf(TypeError);
  expect(e2.message).toBe('"callback" must be a function');
});

test('invalid_options_reject', async () => {
  const e = await db.transaction({ isolationLevel: 'SOMETIMES' }, async () => {}).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.TransactionError);
  const e2 = await db.transaction({ nestMode: 'sideways' }, async () => {}).catch((x) => x);
  expect(e2).toBeInstanceOf(pgatomic.TransactionError);
  expect(() => pgatomic.connect(undefined, { max: 0 })).toThrow(TypeError);
  expect(() => pgatomic.connect(undefined, { types: { int8: 'float' } })).toThrow(TypeError);
});

// A key nobody reads is refused, never ignored: a misspelt isolationLevel
// would otherwise run the block at READ COMMITTED, a misspelt transaction
// would run the statement outside the one meant.  Nothing is sent.
test('unknown_transaction_and_query_option_keys_are_refused', async () => {
  const keys = [['isolationlevel', 'SERIALIZABLE'], ['isolation', 'SERIALIZABLE'], ['readonly', true],
    ['retry', 3], ['logging', false], ['type', 'DEFERRED']];
  for (const [key, value] of keys) {
    for (const start of [(o) => db.transaction(o, async () => 1), (o) => db.transaction(o),
      (o) => db.startUnmanagedTransaction(o)]) {
      const e = await start({ [key]: value }).catch((x) => x);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(new RegExp(`^Unknown transaction option '${key}' \\(known: isolationLevel, `));
    }
  }
  for (const [key, value] of [['transacton', null], ['timeout', 5], ['rowMode', 'array'], ['signl', null]]) {
    const e = await db.query('SELECT 1', [], { [key]: value }).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(new RegExp(`^Unknown query option '${key}' \\(known: transaction, signal\\)`));
  }
  expect(db.currentTransaction()).toBeUndefined();
  // The known keys still work, every one of them.
  const signal = new AbortController().signal;
  await db.transaction({ isolationLevel: 'SERIALIZABLE', readOnly: false, deferrable: false, transaction: null,
    nestMode: 'savepoint', retries: 1, retryBaseMs: 1, retryCapMs: 2, signal }, async (t) => {
    expect((await db.query('SHOW transaction_isolation', null, { transaction: t, signal })).rows[0])
      .toEqual({ transaction_isolation: 'serializable' });
  });
});

test('use_after_close_rejects_with_ConnectionError', async () => {
  const d = openDb();
  const t = await d.transaction();
  await d.close();
  const e = await d.query('SELECT 1').catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.ConnectionError);
  expect(e.message).toBe('Database is closed');
  const e2 = await t.query('SELECT 1').catch((x) => x);
  expect(e2).toBeInstanceOf(pgatomic.ConnectionError);
  expect(e2.message).toBe('Database is closed');
  const e3 = await t.commit().catch((x) => x);
  expect(e3).toBeInstanceOf(pgatomic.ConnectionError);
  expect(t.finished).toBe('rollback');  // never reported as committed
  await expect(d.close()).resolves.toBeUndefined();  // closing twice is fine
});

test('finished_transaction_reused_rejects_with_TransactionError', async () => {
  const t = await db.transaction();
  await t.commit();
  await expect(t.query('SELECT 1')).rejects.toThrow(pgatomic.TransactionError);
  await expect(t.commit()).rejects.toThrow(pgatomic.TransactionError);
  await expect(t.rollback()).rejects.toThrow(pgatomic.TransactionError);
  await expect(db.transaction({ transaction: t }, async () => {})).rejects.toThrow(pgatomic.TransactionError);
});

test('syntax_error_rejects_with_DatabaseError_and_the_connection_is_reused', async () => {
  const e = await db.query('SELEC 1').catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.DatabaseError);
  expect(e.code).toBe('42601');
  expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
});
