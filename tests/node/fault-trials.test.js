'use strict';
// Randomized fault trials: money transfers through the proxy, each with a
// fault at a random protocol moment (or none).  Invariants: the total never
// changes, and every transfer happened entirely or not at all; a `transfers`
// row written in the same transaction tells which way an outcome-unknown
// COMMIT went.  PGA_FAULT_SEED reproduces a run; PGA_FAULT_TRIALS sets its
// length (CI: 150; the long run: 1000).
const { pgatomic, openDb, startProxy, waitFor, openSessions } = require('./helpers');

const { ConnectionError, CommitOutcomeUnknownError } = pgatomic;
const TRIALS = Number(process.env.PGA_FAULT_TRIALS || 150);
const SEED = Number(process.env.PGA_FAULT_SEED || (Date.now() % 1000000));
const ACCOUNTS = 6;
const START = 1000;
jest.setTimeout(Math.max(60000, TRIALS * 200));

// mulberry32: small, seedable, good enough to pick faults.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Fault points: [name, arm command for trial i or null].
const FAULTS = [
  ['none', () => null],
  ['after_first_statement', (i) => `arm after /*t${i}a*/`],
  ['before_second_statement', (i) => `arm before /*t${i}b*/`],
  ['after_second_statement', (i) => `arm after /*t${i}b*/`],
  ['before_savepoint_statement', (i) => `arm before /*t${i}c*/`],
  ['after_savepoint_statement', (i) => `arm after /*t${i}c*/`],
  ['before_commit', () => 'arm before ^COMMIT'],
  ['after_commit', () => 'arm after ^COMMIT'],
];

let direct;
let proxy;
let pdb;
beforeAll(async () => {
  direct = openDb({ max: 1 });
  await direct.query('DROP TABLE IF EXISTS trial_accounts, trial_transfers');
  await direct.query('CREATE TABLE trial_accounts (id int PRIMARY KEY, balance int NOT NULL)');
  await direct.query(
    'CREATE TABLE trial_transfers (id text PRIMARY KEY, src int NOT NULL, dst int NOT NULL, amount int NOT NULL)');
  await direct.query('INSERT INTO trial_accounts SELECT g, $1 FROM generate_series(1, $2) g', [START, ACCOUNTS]);
  proxy = await startProxy();
  pdb = pgatomic.connect(`${proxy.url} application_name=pga_fault_trials`, { max: 2 });
});
afterAll(async () => {
  await pdb.close();
  await proxy.stop();
  await direct.query('DROP TABLE trial_accounts, trial_transfers');
  await direct.close();
});

test('random_fault_trials_keep_every_transfer_whole', async () => {
  const rand = prng(SEED);
  const pick = (n) => Math.floor(rand() * n);
  const seen = {};
  const expectApplied = new Map();  // id -> true (must be there) | false (must not)
  for (let i = 0; i < TRIALS; i++) {
    const [name, arm] = FAULTS[pick(FAULTS.length)];
    const src = 1 + pick(ACCOUNTS);
    const dst = 1 + ((src + pick(ACCOUNTS - 1)) % ACCOUNTS);
    const amount = 1 + pick(50);
    const batched = rand() < 0.3;  // the two UPDATEs as one Promise.all batch
    const id = `${SEED}-${i}`;
    const cmd = arm(i);
    if (cmd) expect(await proxy.control(cmd)).toBe('ok');
    const outcome = await pdb.transaction(async () => {
      const debit = () => pdb.query(
        `UPDATE trial_accounts SET balance = balance - $1 WHERE id = $2 /*t${i}a*/`, [amount, src]);
      const credit = () => pdb.query(
        `UPDATE trial_accounts SET balance = balance + $1 WHERE id = $2 /*t${i}b*/`, [amount, dst]);
      if (batched) await Promise.all([debit(), credit()]);
      else { await debit(); await credit(); }
      await pdb.transaction(async () => {
        await pdb.query(`INSERT INTO trial_transfers VALUES ($1, $2, $3, $4) /*t${i}c*/`,
          [id, src, dst, amount]);
      });
    }).then(() => 'ok', (e) => e);
    await proxy.control('disarm');
    let kind;
    if (outcome === 'ok') {
      kind = 'committed';
      expectApplied.set(id, true);
    } else if (outcome.constructor === CommitOutcomeUnknownError) {
      kind = 'unknown';  // the transfers row will tell
    } else if (outcome.constructor === ConnectionError) {
      kind = 'lost';
      expectApplied.set(id, false);
    } else {
      throw new Error(`trial ${i} (${name}, seed ${SEED}): unexpected ${outcome && outcome.stack}`);
    }
    // A fault before COMMIT never ends as committed or unknown, and no
    // fault at all always commits.
    if (name === 'none') expect([name, kind]).toEqual([name, 'committed']);
    if (name.startsWith('after_') && name !== 'after_commit') expect([name, kind]).toEqual([name, 'lost']);
    if (name === 'after_commit') expect([name, kind]).toEqual([name, 'unknown']);
    seen[`${name}:${kind}`] = (seen[`${name}:${kind}`] || 0) + 1;
  }

  // Every transfer whole: balances are exactly what the recorded transfers
  // say, and the total is unchanged.
  const transfers = (await direct.query('SELECT id, src, dst, amount FROM trial_transfers')).rows;
  const model = new Map();
  for (let a = 1; a <= ACCOUNTS; a++) model.set(a, START);
  const recorded = new Set();
  for (const t of transfers) {
    recorded.add(t.id);
    model.set(t.src, model.get(t.src) - t.amount);
    model.set(t.dst, model.get(t.dst) + t.amount);
  }
  for (const [id, applied] of expectApplied) {
    expect([id, recorded.has(id)]).toEqual([id, applied]);
  }
  const balances = (await direct.query('SELECT id, balance FROM trial_accounts ORDER BY id')).rows;
  for (const { id, balance } of balances) expect([id, balance]).toEqual([id, model.get(id)]);
  const total = balances.reduce((s, r) => s + r.balance, 0);
  expect(total).toBe(START * ACCOUNTS);

  // The pool replaced every dead session; none leaked.
  expect((await pdb.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  await waitFor(async () => (await openSessions(direct, proxy, 'pga_fault_trials'))
    === pdb.poolStats().total, 5000, 'no leaked session');
  // eslint-disable-next-line no-console
  console.log(`fault trials: seed=${SEED} trials=${TRIALS} committed_rows=${transfers.length} outcomes=${JSON.stringify(seen)}`);
});
