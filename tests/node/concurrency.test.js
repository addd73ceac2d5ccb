'use strict';
// 50 tasks moving money at SERIALIZABLE with retries on a pool of 8 for a
// few seconds.  Each transfer reads the balances and writes back computed
// values (a lost update would show), and logs itself in the same
// transaction.  Invariants: total unchanged, balances equal the log, and
// retries actually happened.
const { Transaction } = require('../../node');
const { openDb } = require('./helpers');

const TASKS = 50;
const ACCOUNTS = 5;
const START = 10000;
const SECONDS = Number(process.env.PGA_CONCURRENCY_SECONDS || 3);
jest.setTimeout(60000 + SECONDS * 1000);

let db;
beforeAll(async () => {
  db = openDb({ max: 8 });
  await db.query('DROP TABLE IF EXISTS conc_accounts, conc_transfers');
  await db.query('CREATE TABLE conc_accounts (id int PRIMARY KEY, balance int NOT NULL)');
  await db.query('CREATE TABLE conc_transfers (id serial PRIMARY KEY, src int, dst int, amount int)');
  await db.query('INSERT INTO conc_accounts SELECT g, $1 FROM generate_series(1, $2) g', [START, ACCOUNTS]);
});
afterAll(async () => {
  await db.query('DROP TABLE conc_accounts, conc_transfers');
  await db.close();
});

test('serializable_transfers_with_retries_lose_nothing', async () => {
  const before = db.stats();
  const deadline = Date.now() + SECONDS * 1000;
  let committed = 0;
  const failures = [];
  const task = async () => {
    while (Date.now() < deadline) {
      const src = 1 + Math.floor(Math.random() * ACCOUNTS);
      const dst = 1 + ((src + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS);
      const amount = 1 + Math.floor(Math.random() * 20);
      try {
        await db.transaction({
          isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE,
          retries: 30,
          retryBaseMs: 2,
          retryCapMs: 50,
        }, async () => {
          const r = await db.query('SELECT id, balance FROM conc_accounts WHERE id = ANY($1)', [[src, dst]]);
          const bal = new Map(r.rows.map((x) => [x.id, x.balance]));
          await Promise.all([
            db.query('UPDATE conc_accounts SET balance = $1 WHERE id = $2', [bal.get(src) - amount, src]),
            db.query('UPDATE conc_accounts SET balance = $1 WHERE id = $2', [bal.get(dst) + amount, dst]),
            db.query('INSERT INTO conc_transfers (src, dst, amount) VALUES ($1, $2, $3)', [src, dst, amount]),
          ]);
        });
        committed++;
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: TASKS }, task));
  const stats = db.stats();
  const retries = stats.retries - before.retries;

  // Only retryable failures may survive (their retries ran out).
  for (const e of failures) expect([e.message, e.attempts]).toEqual([e.message, 31]);
  const log = (await db.query('SELECT src, dst, amount FROM conc_transfers')).rows;
  expect(log.length).toBe(committed);
  const model = new Map();
  for (let a = 1; a <= ACCOUNTS; a++) model.set(a, START);
  for (const t of log) {
    model.set(t.src, model.get(t.src) - t.amount);
    model.set(t.dst, model.get(t.dst) + t.amount);
  }
  const balances = (await db.query('SELECT id, balance FROM conc_accounts ORDER BY id')).rows;
  for (const { id, balance } of balances) expect([id, balance]).toEqual([id, model.get(id)]);
  expect(balances.reduce((s, r) => s + r.balance, 0)).toBe(START * ACCOUNTS);
  expect(committed).toBeGreaterThan(0);
  expect(retries).toBeGreaterThan(0);
  // eslint-disable-next-line no-console
  console.log(`concurrency: tasks=${TASKS} seconds=${SECONDS} committed=${committed} retries=${retries} attempts=${stats.attempts - before.attempts} gave_up=${failures.length}`);
});
