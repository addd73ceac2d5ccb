'use strict';
// The Sequelize seed (003, "Using Transactions with Sequelize") as written,
// modulo the require: User.create / Post.create become db.query(sql,
// params, { transaction }); `await db.transaction()`, commit(), rollback()
// and db.close() in finally stay.
const { pgatomic, openDb } = require('./helpers');

let admin;

beforeAll(async () => {
  admin = openDb();
  await admin.query('DROP TABLE IF EXISTS seedtest_posts');
  await admin.query('DROP TABLE IF EXISTS seedtest_users');
  await admin.query(`CREATE TABLE seedtest_users (id serial PRIMARY KEY, name text NOT NULL,
    email text NOT NULL UNIQUE)`);
  await admin.query(`CREATE TABLE seedtest_posts (id serial PRIMARY KEY, title text NOT NULL,
    content text NOT NULL, "userId" int REFERENCES seedtest_users (id))`);
});

afterAll(async () => {
  await admin.query('DROP TABLE seedtest_posts');
  await admin.query('DROP TABLE seedtest_users');
  await admin.close();
});

beforeEach(async () => {
  await admin.query('TRUNCATE seedtest_posts, seedtest_users RESTART IDENTITY');
});

async function createUserAndPosts(user, post) {
  const sequelize = pgatomic.connect();
  const log = [];
  const transaction = await sequelize.transaction();

  try {
    const { rows: [created] } = await sequelize.query(
      'INSERT INTO seedtest_users (name, email) VALUES ($1, $2) RETURNING id',
      [user.name, user.email], { transaction });
    await sequelize.query(
      'INSERT INTO seedtest_posts (title, content, "userId") VALUES ($1, $2, $3)',
      [post.title, post.content, created.id], { transaction });

    await transaction.commit();
    log.push('Transaction committed successfully.');
  } catch (error) {
    await transaction.rollback();
    log.push(error);
  } finally {
    await sequelize.close();
  }
  return log[0];
}

async function data() {
  const users = (await admin.query('SELECT name, email FROM seedtest_users ORDER BY id')).rows;
  const posts = (await admin.query('SELECT title, content FROM seedtest_posts ORDER BY id')).rows;
  return { users, posts };
}

test('seed_user_and_post_commit_together', async () => {
  const outcome = await createUserAndPosts({ name: 'John Doe', email: 'john.doe@example.com' },
    { title: 'First Post', content: 'This is my first post!' });
  expect(outcome).toBe('Transaction committed successfully.');
  expect(await data()).toEqual({
    users: [{ name: 'John Doe', email: 'john.doe@example.com' }],
    posts: [{ title: 'First Post', content: 'This is my first post!' }],
  });
});

test('seed_failing_post_rolls_the_user_back', async () => {
  const outcome = await createUserAndPosts({ name: 'John Doe', email: 'john.doe@example.com' },
    { title: 'First Post', content: null });
  expect(outcome).toBeInstanceOf(pgatomic.NotNullConstraintError);
  expect(outcome.code).toBe('23502');
  expect(outcome.column).toBe('content');
  expect(await data()).toEqual({ users: [], posts: [] });
});

test('seed_duplicate_email_rejects_with_UniqueConstraintError', async () => {
  await createUserAndPosts({ name: 'John Doe', email: 'john.doe@example.com' },
    { title: 'First Post', content: 'This is my first post!' });
  const outcome = await createUserAndPosts({ name: 'John Again', email: 'john.doe@example.com' },
    { title: 'Second Post', content: 'never stored' });
  expect(outcome).toBeInstanceOf(pgatomic.UniqueConstraintError);
  expect(outcome).toBeInstanceOf(pgatomic.DatabaseError);
  expect(outcome).toBeInstanceOf(Error);
  expect(outcome.code).toBe('23505');
  expect(outcome.constraint).toBe('seedtest_users_email_key');
  expect(outcome.fields).toEqual({ email: 'john.doe@example.com' });
  expect(await data()).toEqual({
    users: [{ name: 'John Doe', email: 'john.doe@example.com' }],
    posts: [{ title: 'First Post', content: 'This is my first post!' }],
  });
});
