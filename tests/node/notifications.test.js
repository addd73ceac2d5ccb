'use strict';
// LISTEN/NOTIFY: what a session receives is delivered as 'notification'
// events on its Database ({ channel, payload, processId }, pg's shape), in
// order, none lost, also while the session idles in the pool; and it never
// piles up in libpq (the core's bound, PGA_NOTIFY_MAX, is checked in C).
// An idle session watching for them does not keep the process alive.
const path = require('path');
const { execFile } = require('child_process');
const { pgatomic, openDb, waitFor } = require('./helpers');

let db;
beforeAll(() => { db = openDb({ max: 2 }); });
afterAll(() => db.close());

// A session of db that LISTENs, held by an unmanaged transaction we commit
// at once, so it goes back to the pool idle and listening.
async function listen(channel) {
  const t = await db.transaction();
  await t.query(`LISTEN ${channel}`);
  const pid = (await t.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  await t.commit();
  return pid;
}

test('notifications_reach_the_database_while_its_session_idles', async () => {
  const got = [];
  const onNote = (n) => got.push(n);
  db.on('notification', onNote);
  try {
    await listen('nt_idle');
    const other = openDb({ max: 1 });
    const notifier = (await other.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    await other.query("SELECT pg_notify('nt_idle', 'one'), pg_notify('nt_idle', '')");
    await other.query("NOTIFY nt_idle, 'two'");
    await other.close();
    await waitFor(() => got.length >= 3, 10000, 'three notifications');
    expect(got).toEqual([
      { channel: 'nt_idle', payload: 'one', processId: notifier },
      { channel: 'nt_idle', payload: '', processId: notifier },
      { channel: 'nt_idle', payload: 'two', processId: notifier },
    ]);
  } finally {
    db.off('notification', onNote);
  }
});

test('a_flood_of_notifications_arrives_whole_and_in_order', async () => {
  const N = 12000;   // more than the core's bound of 10,000 per session
  const got = [];
  const onNote = (n) => { if (n.channel === 'nt_flood') got.push(Number(n.payload)); };
  db.on('notification', onNote);
  try {
    await listen('nt_flood');
    const other = openDb({ max: 1 });
    await other.query(`SELECT count(pg_notify('nt_flood', g::text)) FROM generate_series(1, ${N}) g`);
    await other.close();
    await waitFor(() => got.length >= N, 30000, `${N} notifications`);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(db.stats().notificationsDropped).toBe(0);
  } finally {
    db.off('notification', onNote);
  }
});

test('a_listener_that_throws_is_an_uncaught_exception_not_the_sessions', async () => {
  const child = path.join(__dirname, 'fixtures', 'notify-throws.js');
  const out = await new Promise((resolve) => {
    execFile(process.execPath, [child], { env: process.env, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  expect(out.stdout).toContain('uncaught: boom from a listener');
  expect(out.stdout).toContain('session still works: 1');
});

test('an_idle_listening_session_does_not_keep_the_process_alive', async () => {
  const child = path.join(__dirname, 'fixtures', 'notify-idle-exit.js');
  const out = await new Promise((resolve) => {
    execFile(process.execPath, [child], { env: process.env, timeout: 60000 }, (err, stdout) =>
      resolve({ err, stdout }));
  });
  expect(out.err).toBeNull();          // exited by itself, not killed at the timeout
  expect(out.stdout).toContain('listening');
});

test('the_database_is_an_event_emitter', () => {
  expect(typeof db.on).toBe('function');
  expect(db).toBeInstanceOf(require('events').EventEmitter);
  expect(pgatomic.connect().listenerCount('notification')).toBe(0);
});
