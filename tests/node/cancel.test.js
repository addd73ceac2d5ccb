'use strict';
// Cancelling a statement: the core writes the request without waiting, the loop
// keeps ticking, the statement fails with QueryCanceledError.
const { pgatomic, openDb } = require('./helpers');

let db;
beforeAll(() => { db = openDb({ max: 1 }); });
afterAll(() => db.close());

test('abort_signal_cancels_a_running_statement', async () => {
  await db.query('SELECT 1');
  const ac = new AbortController();
  let ticks = 0;
  // The abort comes from the loop's fifth tick while the statement waits:
  // only a loop that keeps ticking meanwhile can send it (a fixed pause and
  // a tick count would race on a loaded machine).  The promise rejects at
  // once; the session is then cancelled, or, when the cancel came before
  // the server ran the statement (it drops such a cancel), closed after the
  // abort's grace, and the next query runs on a fresh one.
  const timer = setInterval(() => { if (++ticks === 5) ac.abort(); }, 20);
  const e = await db.query('SELECT pg_sleep(30)', [], { signal: ac.signal }).catch((x) => x);
  clearInterval(timer);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(e.code).toBe('57014');
  expect(ticks).toBe(5);
  expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
});

test('cancel_racing_the_end_of_a_statement_never_cancels_the_next', async () => {
  // A cancel request reaches the server a moment after it was written; had
  // the statement it was meant for ended by then, the server would cancel
  // whatever runs next on the session.  The core holds the next statement
  // until the server has read the request (as libpq's PQcancel() holds its
  // caller).  Each round aborts a statement whose answer is most likely
  // already in the socket, unread: its own outcome is either.
  await db.query('SELECT 1');
  for (let i = 0; i < 20; i++) {
    const ac = new AbortController();
    const first = db.query('SELECT 1 AS v', [], { signal: ac.signal }).catch((x) => x);
    await new Promise((resolve) => setImmediate(resolve));      // sent
    for (const until = Date.now() + 20; Date.now() < until;);   // answered, not read
    ac.abort();
    await first;
    const next = await db.query('SELECT pg_sleep(0.01), 2 AS v');
    expect(next.rows).toEqual([{ pg_sleep: '', v: 2 }]);
  }
});

test('already_aborted_signal_rejects_without_sending', async () => {
  const ac = new AbortController();
  ac.abort();
  const e = await db.query('SELECT 1', [], { signal: ac.signal }).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
});

test('cancel_inside_a_transaction_rolls_it_back', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const e = await db.transaction(async () => {
    await db.query('SELECT pg_sleep(5)', [], { signal: ac.signal });
  }).catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.QueryCanceledError);
  expect(db.poolStats().idle).toBe(db.poolStats().total);
});
