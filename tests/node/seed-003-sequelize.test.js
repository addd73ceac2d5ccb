'use strict';
// Seed 003 as written (examples/node/seed-003-sequelize.js: its Sequelize
// models and transaction code, the dialect line on pgatomic/pg), run as its
// own program the way the lesson runs it, twice: the first run commits a
// user and a post together, the second hits the unique email, rolls back
// and leaves the data as it was.
const path = require('path');
const { execFile } = require('child_process');

const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'node');

function run(file, args = []) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(EXAMPLES, file), ...args], { env: process.env, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

async function show() {
  const r = await run('seed-003-sequelize-setup.js', ['--show']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  const r = await run('seed-003-sequelize-setup.js');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

test('seed_sequelize_models_commit_together', async () => {
  const r = await run('seed-003-sequelize.js');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/START TRANSACTION;[\s\S]*INSERT INTO "Users"[\s\S]*INSERT INTO "Posts"[\s\S]*COMMIT;/);
  expect(r.stdout).toMatch(/Transaction committed successfully\./);
  expect(r.stderr).toBe('');
  const data = await show();
  expect(data.users).toEqual([{ id: 1, name: 'John Doe', email: 'john.doe@example.com' }]);
  // The lesson writes `userId`; Sequelize's attribute is `UserId`, so the
  // post is stored without its user, on pg and on pgatomic/pg alike.
  expect(data.posts).toEqual([{ id: 1, title: 'First Post', UserId: null }]);
});

test('seed_sequelize_second_run_duplicate_email_rolls_back', async () => {
  const r = await run('seed-003-sequelize.js');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/ROLLBACK;/);
  expect(r.stdout).not.toMatch(/committed successfully/);
  expect(r.stderr).toMatch(/Transaction rolled back due to an error:/);
  expect(r.stderr).toMatch(/SequelizeUniqueConstraintError/);
  expect(r.stderr).toMatch(/duplicate key value violates unique constraint "Users_email_key"/);
  const data = await show();
  expect(data.users.length).toBe(1);
  expect(data.posts.length).toBe(1);
});
