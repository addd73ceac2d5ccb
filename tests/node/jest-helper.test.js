'use strict';
// pgatomic/jest, the helper shipped with the package: a database of its own
// per test file, each test in a transaction rolled back afterwards.  This
// file uses it as a user would; the last tests run it in child jest
// processes, once on the server this suite was given and once with no
// server at all (it then starts a throwaway one with initdb and pg_ctl).
const path = require('path');
const fs = require('fs');
const { execFile } = require('child_process');
const os = require('os');
const { useDatabase, startServer } = require('../../jest');
const { pgatomic } = require('./helpers');

jest.setTimeout(180000);

const db = useDatabase({
  setup: 'CREATE TABLE jh_items (n int PRIMARY KEY, note text)',
  options: { max: 3 },
});

const count = async () => (await db.query('SELECT count(*)::int AS c FROM jh_items')).rows[0].c;

test('a_test_writes_rows', async () => {
  await db.query('INSERT INTO jh_items VALUES (1, $1)', ['first']);
  expect(await count()).toBe(1);
});

test('the_next_test_does_not_see_them', async () => {
  expect(await count()).toBe(0);
});

test('transactions_inside_a_test_are_its_savepoints', async () => {
  await db.transaction(async (t) => {
    expect(t.parent).not.toBeNull();
    await t.query('INSERT INTO jh_items VALUES (2)');
  });
  const u = await db.transaction();          // unmanaged: a savepoint too
  expect(u.parent).not.toBeNull();
  await u.query('INSERT INTO jh_items VALUES (3)');
  await u.rollback();
  await db.transaction({ nestMode: 'separate' }, async (s) => {
    expect(s.parent).not.toBeNull();
  });
  expect((await db.query('SELECT n FROM jh_items ORDER BY n')).rows).toEqual([{ n: 2 }]);
});

test('nothing_of_the_previous_test_is_left', async () => {
  expect(await count()).toBe(0);
  expect(db.url).toMatch(/dbname='pgatomic_test_jest_helper_test_/);
});

function runJest(file, env) {
  const jestBin = require.resolve('jest/bin/jest');
  return new Promise((resolve) => {
    const config = JSON.stringify({ rootDir: path.dirname(file), testEnvironment: 'node',
      testMatch: ['**/*.fixture.js'], testTimeout: 120000 });
    execFile(process.execPath, [jestBin, '--config', config, '--runTestsByPath', file, '--colors=false'],
      { env, timeout: 150000 },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: `${stdout}${stderr}` }));
  });
}

const FIXTURE = path.join(__dirname, 'fixtures', 'jest-helper', 'helper.fixture.js');

test('each_file_gets_a_database_that_is_dropped_after_it', async () => {
  const admin = pgatomic.connect(process.env.PGATOMIC_TEST_DSN || process.env.DATABASE_URL, { max: 1 });
  try {
    const r = await runJest(FIXTURE, { ...process.env, PGATOMIC_TEST_DSN: process.env.PGATOMIC_TEST_DSN || process.env.DATABASE_URL });
    expect(r.out).toMatch(/Tests:\s+3 passed, 3 total/);
    const name = /database=(\S+)/.exec(r.out)[1];
    const left = await admin.query('SELECT count(*)::int AS c FROM pg_database WHERE datname = $1', [name]);
    expect(left.rows[0].c).toBe(0);
  } finally {
    await admin.close();
  }
});

test('without_a_server_it_starts_and_removes_a_throwaway_one', async () => {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PG') || k === 'DATABASE_URL') delete env[k];
  const r = await runJest(FIXTURE, env);
  expect(r.out).toMatch(/Tests:\s+3 passed, 3 total/);
  const socketDir = /host='?([^' ]+)/.exec(/url=(.*)/.exec(r.out)[1])[1];
  expect(socketDir).toMatch(/pgatomic-jest-/);
  expect(fs.existsSync(socketDir)).toBe(false);
});

test('a_server_that_cannot_start_leaves_nothing_behind', async () => {
  // initdb and pg_ctl that fail, as a broken installation would.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-fake-bin-'));
  fs.chmodSync(bin, 0o755);
  for (const name of ['initdb', 'pg_ctl']) {
    fs.writeFileSync(path.join(bin, name), '#!/bin/sh\necho "cannot" >&2\nexit 1\n', { mode: 0o755 });
  }
  const ours = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('pgatomic-jest-')).sort();
  const before = ours();
  const saved = process.env.PGBIN;
  process.env.PGBIN = bin;
  try {
    await expect(startServer()).rejects.toThrow(/cannot/);
  } finally {
    if (saved === undefined) delete process.env.PGBIN;
    else process.env.PGBIN = saved;
    fs.rmSync(bin, { recursive: true, force: true });
  }
  expect(ours()).toEqual(before);
});
