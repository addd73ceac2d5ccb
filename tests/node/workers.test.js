'use strict';
// The addon keeps per-environment state (no statics): it works in worker
// threads, and terminating a worker with a statement in flight neither
// crashes the process nor disturbs the main thread's pool.
const path = require('path');
const { Worker } = require('worker_threads');
const { openDb } = require('./helpers');

const entry = path.resolve(__dirname, '../../node');

function runWorker(code) {
  const w = new Worker(`const pgatomic = require(${JSON.stringify(entry)});\n${code}`,
    { eval: true });
  const first = new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return { w, first };
}

test('worker_threads_query_and_terminate_with_work_in_flight', async () => {
  const db = openDb({ max: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const { w, first } = runWorker(`
        const { parentPort } = require('worker_threads');
        (async () => {
          const db = pgatomic.connect();
          const r = await db.transaction(async () => (await db.query('SELECT $1::int * 2 AS v', [${i}])).rows[0].v);
          db.query('SELECT pg_sleep(2)').catch(() => {});
          parentPort.postMessage(r);
        })();`);
      expect(await first).toBe(i * 2);
      await w.terminate();
      expect((await db.query('SELECT $1::int AS v', [i])).rows[0].v).toBe(i);
    }
  } finally {
    await db.close();
  }
});
