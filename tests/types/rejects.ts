// Code the runtime refuses must not type-check: each line under an
// expect-error directive has to be an error, or tsc reports it unused.
import { connect } from 'pgatomic';

class Secret { constructor(readonly value: string) {} }

export async function rejected(): Promise<void> {
  const db = connect();
  // @ts-expect-error a symbol is no parameter
  await db.query('SELECT $1', [Symbol('s')]);
  // @ts-expect-error nor is a function
  await db.query('SELECT $1', [() => 1]);
  // @ts-expect-error nor a Map
  await db.query('SELECT $1', [new Map([[1, 2]])]);
  const set = new Set([1]);
  // @ts-expect-error nor a Set inside an array
  await db.query('SELECT $1', [[set]]);
  // @ts-expect-error params are an array
  await db.query('SELECT $1', 5);
  // @ts-expect-error sql is a string
  await db.query(42);
  // @ts-expect-error a stream takes no signal (leave its loop to stop it)
  db.stream('SELECT 1', [], { signal: new AbortController().signal });
  // @ts-expect-error batchSize is a number
  db.stream('SELECT 1', [], { batchSize: '10' });
  // @ts-expect-error unknown option keys are refused
  connect({ hots: 'localhost' });
  // @ts-expect-error PEM text for TLS is refused (name files in the connection string)
  connect({ ssl: { ca: '-----BEGIN CERTIFICATE-----' } });
  // @ts-expect-error max is a number
  connect({ max: '5' });
  // @ts-expect-error int8 mode is one of three
  connect({ types: { int8: 'float' } });
  // @ts-expect-error nestMode is one of three
  await db.transaction({ nestMode: 'nested' }, async () => 1);
  // @ts-expect-error isolation levels are the SQL words
  await db.transaction({ isolationLevel: 'serializable' });
  // @ts-expect-error unknown transaction option keys are refused
  await db.transaction({ isolationlevel: 'SERIALIZABLE' }, async () => 1);
  // @ts-expect-error unknown query option keys are refused
  await db.query('SELECT 1', [], { transacton: null });
  // @ts-expect-error hooks are functions
  (await db.transaction()).afterCommit('later');
  void Secret;
}
