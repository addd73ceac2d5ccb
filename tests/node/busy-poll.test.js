'use strict';
// The core's busy poll on the event loop (pgatomic.h "Busy polling"): the
// loop spins before it sleeps while an answer may come soon, yet a due
// timer or another socket's I/O ends the spin at once.  A budget of a
// second makes any wrong order visible: a spin that held the loop would
// run the statement's settle before the timer or the other answer.
const net = require('net');
const { openDb } = require('./helpers');
const pg = require('../../node/pg');

const BIG = 1000000;

test('busy_poll_never_delays_a_timer', async () => {
  const db = openDb({ max: 1, busyPollMicros: BIG });
  try {
    await db.query('SELECT 1');
    const order = [];
    const slow = db.query('SELECT pg_sleep(0.3)').then(() => order.push('statement'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push('timer');
    await slow;
    expect(order).toEqual(['timer', 'statement']);
  } finally {
    await db.close();
  }
});

test('busy_poll_never_delays_another_connection', async () => {
  const db = openDb({ max: 2, busyPollMicros: BIG });
  try {
    // Two sessions open and idle, so the fast statement needs no connect.
    await Promise.all([db.query('SELECT 1'), db.query('SELECT 1')]);
    expect(db._pool.all.size).toBe(2);
    const order = [];
    const slow = db.query('SELECT pg_sleep(0.3)').then(() => order.push('slow'));
    const fast = db.query('SELECT 1').then(() => order.push('fast'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
  } finally {
    await db.close();
  }
});

test('busy_poll_never_delays_other_io', async () => {
  // An echo over loopback TCP inside this process: I/O of the loop that is
  // not a database socket.
  const server = net.createServer((sock) => sock.on('data', (d) => sock.write(d)));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect(server.address().port, '127.0.0.1');
  const db = openDb({ max: 1, busyPollMicros: BIG });
  try {
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    await db.query('SELECT 1');
    const order = [];
    const slow = db.query('SELECT pg_sleep(0.3)').then(() => order.push('statement'));
    const echoed = new Promise((resolve) => client.once('data', resolve)).then(() => order.push('echo'));
    client.write('x');
    await Promise.all([slow, echoed]);
    expect(order).toEqual(['echo', 'statement']);
  } finally {
    client.destroy();
    server.close();
    await db.close();
  }
});

test('busy_poll_off_never_spins', async () => {
  // Nothing to observe but that statements run as ever.
  const db = openDb({ max: 1, busyPollMicros: 0 });
  try {
    const res = await db.query('SELECT 41 + 1 AS v');
    expect(res.rows).toEqual([{ v: 42 }]);
  } finally {
    await db.close();
  }
});

test('busy_poll_invalid_budget_is_misuse', async () => {
  for (const bad of [-1, 1.5, BIG + 1, '150', null, NaN]) {
    expect(() => openDb({ busyPollMicros: bad })).toThrow(TypeError);
    expect(() => new pg.Client({ busyPollMicros: bad })).toThrow(TypeError);
  }
  const client = new pg.Client({ busyPollMicros: BIG });
  try {
    await client.connect();
    expect((await client.query('SELECT 1 AS v')).rows).toEqual([{ v: 1 }]);
  } finally {
    await client.end();
  }
});
