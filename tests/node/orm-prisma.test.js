'use strict';
// Prisma 7 (@prisma/adapter-pg) on pgatomic/pg through its ordinary
// configuration line, new PrismaPg({ ...config, Client }): the scenarios run
// in fixtures/prisma-transactions.js, in a Node process of its own (Prisma's
// runtime requires an ES module, which jest's module system cannot load).
const path = require('path');
const { execFile } = require('child_process');
const { table } = require('./orm-helpers');

const T = 'orm_prisma';
let ids;
let results;

beforeAll(async () => {
  ids = await table(T);
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, 'fixtures', 'prisma-transactions.js'), T],
      { env: process.env, timeout: 60000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
  });
  results = {};
  for (const line of out.trim().split('\n')) {
    const r = JSON.parse(line);
    results[r.name] = r;
  }
});

test('orm_transaction_commits', async () => {
  expect(results.commits).toEqual({ name: 'commits', ok: true });
  expect((await ids()).filter((i) => i < 10)).toEqual([1, 2]);
});

test('orm_nested_transaction_commits', async () => {
  expect(results.nested.ok).toBe(true);
  expect((await ids()).filter((i) => i >= 10 && i < 20)).toEqual([10, 11]);
});

test('orm_failing_nested_transaction_rolls_back_alone', async () => {
  expect(results.nestedFails).toEqual({ name: 'nestedFails', ok: true, value: 'inner fails' });
  expect((await ids()).filter((i) => i >= 20 && i < 30)).toEqual([20, 23]);
});

test('orm_isolation_level_reaches_the_server', () => {
  expect(results.isolation).toEqual({ name: 'isolation', ok: true, value: 'serializable' });
});

test('orm_commit_answered_with_rollback_rejects', async () => {
  const e = results.honestCommit.value;
  expect(e).not.toBeNull();
  // Prisma saw a database error (code, message and severity) with 25P02.
  expect(e.cause.code).toBe('25P02');
  expect((await ids()).filter((i) => i >= 30)).toEqual([]);
});
