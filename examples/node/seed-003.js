'use strict';
// The Sequelize lesson "Using Transactions with Sequelize" (seed 003) on
// pgatomic: the same transaction code, with User.create / Post.create
// written as db.query(sql, params, { transaction }).  It runs the flow
// three times and prints what happened to the data:
//   1. a user and a post commit together;
//   2. a post that fails (NULL content) rolls the user back;
//   3. a duplicate email rejects with UniqueConstraintError.
const pgatomic = require('../../node');

async function setup() {
  const db = pgatomic.connect();
  await db.query('DROP TABLE IF EXISTS seed003_posts');
  await db.query('DROP TABLE IF EXISTS seed003_users');
  await db.query(`CREATE TABLE seed003_users (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE)`);
  await db.query(`CREATE TABLE seed003_posts (
    id serial PRIMARY KEY,
    title text NOT NULL,
    content text NOT NULL,
    "userId" int REFERENCES seed003_users (id))`);
  await db.close();
}

// The seed's createUserAndPosts(), parameterised by the data it writes.
async function createUserAndPosts(user, post) {
  const db = pgatomic.connect();
  let outcome;
  const transaction = await db.transaction();

  try {
    const { rows: [created] } = await db.query(
      'INSERT INTO seed003_users (name, email) VALUES ($1, $2) RETURNING id',
      [user.name, user.email], { transaction });
    await db.query(
      'INSERT INTO seed003_posts (title, content, "userId") VALUES ($1, $2, $3)',
      [post.title, post.content, created.id], { transaction });

    await transaction.commit();
    console.log('Transaction committed successfully.');
    outcome = 'committed';
  } catch (error) {
    await transaction.rollback();
    console.error('Transaction rolled back due to an error:', `${error.name}: ${error.message}`);
    outcome = error;
  } finally {
    await db.close();
  }
  return outcome;
}

async function show(label) {
  const db = pgatomic.connect();
  try {
    const users = await db.query('SELECT id, name, email FROM seed003_users ORDER BY id');
    const posts = await db.query('SELECT id, title, "userId" FROM seed003_posts ORDER BY id');
    console.log(`  ${label}: users=${JSON.stringify(users.rows)} posts=${JSON.stringify(posts.rows)}`);
    return { users: users.rows, posts: posts.rows };
  } finally {
    await db.close();
  }
}

async function main() {
  await setup();
  console.log('1. a user and a post, committed together');
  await createUserAndPosts({ name: 'John Doe', email: 'john.doe@example.com' },
    { title: 'First Post', content: 'This is my first post!' });
  await show('after step 1');

  console.log('2. the post fails (content is NULL): the user is rolled back too');
  await createUserAndPosts({ name: 'Jane Roe', email: 'jane.roe@example.com' },
    { title: 'Broken Post', content: null });
  await show('after step 2');

  console.log('3. a duplicate email: UniqueConstraintError, nothing written');
  const err = await createUserAndPosts({ name: 'John Again', email: 'john.doe@example.com' },
    { title: 'Second Post', content: 'never stored' });
  console.log(`  error class: ${err && err.constructor.name}, constraint: ${err && err.constraint}`);
  const data = await show('after step 3');
  const ok = data.users.length === 1 && data.posts.length === 1 &&
    err instanceof pgatomic.UniqueConstraintError;
  console.log(ok ? 'seed 003: data as expected' : 'seed 003: UNEXPECTED DATA');
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}

module.exports = { setup, createUserAndPosts };
