// Code the runtime accepts must type-check (tsc --strict; see
// tests/node/typings.test.js and scripts/suite-node-package.sh).
import * as pgatomic from 'pgatomic';
import {
  connect, Database, Transaction, ISOLATION_LEVELS, errors, DatabaseError, UniqueConstraintError,
  ConnectionError, NotSupportedError, TransactionError, type Param, type QueryResult,
  type DatabaseOptions, type Notification,
} from 'pgatomic';

interface User {
  id: number;
  email: string;
  tags: string[];
  profile: { nickname: string | null };
}

export async function accepted(): Promise<void> {
  const db = connect();
  const byUrl = connect('postgresql:///app', { max: 2, types: { int8: 'bigint' } });
  const byOptions = connect({
    host: 'db.example.com', port: 5432, user: 'app', password: 'secret', database: 'app',
    ssl: { rejectUnauthorized: false }, application_name: 'api', max: 5,
  });
  const options: DatabaseOptions = { connectionString: process.env.DATABASE_URL, ssl: true };
  const fromNew = new Database(options);
  const fromNewUrl = new pgatomic.Database('postgresql:///app', { idleTimeoutMillis: 0 });

  const user: User = { id: 1, email: 'a@b.c', tags: ['x'], profile: { nickname: null } };
  const ids: readonly number[] = [1, 2, 3];
  const row = await db.query<User>('SELECT * FROM users WHERE id = ANY($1)', [ids]);
  const first: User | undefined = row.rows[0];
  await db.query('INSERT INTO docs (body, tags, at, blob, n, big) VALUES ($1, $2, $3, $4, $5, $6)',
    [user, ['a', 'b'], new Date(), new Uint8Array([1, 2]), 2.5, 10n]);
  await db.query('SELECT $1, $2, $3, $4', [new Float64Array(2), new DataView(new ArrayBuffer(4)),
    new ArrayBuffer(8), [[1, 2.5], [null, 3]]]);
  const params: readonly Param[] = Object.freeze([1, 'two', null, undefined, true]);
  await db.query('SELECT $1, $2, $3, $4, $5', params);
  await db.query('SELECT 1', null, { transaction: null });
  const r: QueryResult = await db.query('SELECT 1 AS one');
  const streamed = db.stream<User>('SELECT * FROM users WHERE id > $1', [0], { batchSize: 500 });
  for await (const u of streamed) {
    const email: string = u.email;
    if (email === '') break;
  }
  const streamedCount: number | null | undefined = streamed.rowCount;
  const one: unknown = r.rows[0].one;

  const result: number = await db.transaction(async (t: Transaction) => {
    await t.query('UPDATE accounts SET b = b - $1 WHERE id = $2', [100, 1]);
    for await (const acct of t.stream('SELECT id FROM accounts')) void acct.id;
    await db.transaction({ nestMode: 'savepoint' }, async () => {
      await db.query('INSERT INTO audit (note) VALUES ($1)', ['transfer']);
    });
    t.afterCommit(() => undefined).afterRollback(async () => { /* nothing */ });
    return 42;
  });
  const t = await db.transaction({ isolationLevel: ISOLATION_LEVELS.SERIALIZABLE, readOnly: true });
  await t.commit();
  const u = await db.startUnmanagedTransaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED });
  await u.rollback();

  db.on('notification', (n: Notification) => { const s: string = n.channel + n.payload + n.processId; });
  try {
    await db.query('SELECT 1');
  } catch (e) {
    if (e instanceof UniqueConstraintError) { const f: Record<string, string> = e.fields; }
    if (e instanceof DatabaseError) { const code: string | undefined = e.code; }
    if (e instanceof ConnectionError) { const code: string | undefined = e.code; }
    if (e instanceof NotSupportedError || e instanceof TransactionError || e instanceof errors.DeadlockError) {
      throw e;
    }
  }
  const stats: number = db.stats().notificationsDropped + db.poolStats().idle;
  for (const d of [db, byUrl, byOptions, fromNew, fromNewUrl]) await d.close();
  void first; void one; void streamedCount; void result; void stats;
}
