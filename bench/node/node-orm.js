'use strict';
// node-orm -- one ORM on one driver, for the ORM table (bench/orm.py):
//
//   node bench/node/node-orm.js ORM DRIVER --shape S [common options]
//
// ORM: sequelize | knex | kysely | drizzle | typeorm | prisma; DRIVER: pg
// (the stock package) | pgatomic (pgatomic/pg, given through the ORM's
// ordinary configuration line, as a user would).  The shapes are the
// transactions of research/orm-integration.md section 2, written the way
// each ORM's users write them.
const path = require('path');
const {
  main, peer, accounts, SQL_INSERT, SQL_DEBIT, SQL_CREDIT, SQL_SELECT,
} = require('./common');

const [ORM, DRIVER] = process.argv.splice(2, 2);
const ROOT = path.join(__dirname, '..', '..');
const driver = DRIVER === 'pgatomic' ? require(path.join(ROOT, 'node', 'pg.js')) : peer('pg');

function pgConfig(o) {
  return { host: o.host, port: o.port, user: o.user, database: o.dbname, max: 1 };
}

class Inner extends Error {}

// Each ORM gives: tx(fn, { serializable }) running fn(handle) in a
// transaction, nest(handle, fn) a nested one, q(handle, sql, params).
const ORMS = {
  async sequelize(o) {
    const { Sequelize, Transaction } = peer('sequelize');
    const options = { host: o.host, port: o.port, dialect: 'postgres', logging: false, pool: { min: 1, max: 1 } };
    if (DRIVER === 'pgatomic') options.dialectModule = driver;
    const s = new Sequelize(o.dbname, o.user, null, options);
    await s.authenticate();
    return {
      tx: (fn, opts = {}) => s.transaction(
        opts.serializable ? { isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE } : {}, fn),
      nest: (t, fn) => s.transaction({ transaction: t }, fn),
      q: (t, sql, bind) => s.query(sql, { bind, transaction: t }),
      close: () => s.close(),
    };
  },
  async knex(o) {
    const knex = peer('knex')({ client: 'pg', connectionPool: new driver.Pool(pgConfig(o)) });
    return {
      tx: (fn, opts = {}) => knex.transaction(fn, opts.serializable ? { isolationLevel: 'serializable' } : {}),
      nest: (trx, fn) => trx.transaction(fn),
      q: (trx, sql, params) => trx.raw(sql.replace(/\$\d+/g, '?'), params),
      close: () => knex.destroy(),
    };
  },
  async kysely(o) {
    const { Kysely, PostgresDialect, CompiledQuery } = peer('kysely');
    const db = new Kysely({ dialect: new PostgresDialect({ pool: new driver.Pool(pgConfig(o)) }) });
    let n = 0;
    return {
      tx: (fn, opts = {}) => (opts.serializable
        ? db.transaction().setIsolationLevel('serializable') : db.transaction()).execute(fn),
      // Kysely nests through savepoints of a controlled transaction.
      async nest(trx, fn) {
        const name = `sp${++n}`;
        const sp = await trx.savepoint(name).execute();
        try {
          await fn(sp);
          await sp.releaseSavepoint(name).execute();
        } catch (err) {
          await sp.rollbackToSavepoint(name).execute();
          throw err;
        }
      },
      q: (trx, text, params) => trx.executeQuery(CompiledQuery.raw(text, params)),
      close: () => db.destroy(),
      controlled: async (fn, opts) => {
        const trx = await (opts && opts.serializable
          ? db.startTransaction().setIsolationLevel('serializable') : db.startTransaction()).execute();
        try {
          const r = await fn(trx);
          await trx.commit().execute();
          return r;
        } catch (err) {
          await trx.rollback().execute();
          throw err;
        }
      },
    };
  },
  async drizzle(o) {
    const { drizzle } = peer('drizzle-orm/node-postgres');
    const { sql } = peer('drizzle-orm');
    const db = drizzle({ client: new driver.Pool(pgConfig(o)) });
    const bind = (text, params) => {
      const parts = text.split(/\$\d+/);
      return sql.join(parts.map((p, k) => (k < params.length ? sql`${sql.raw(p)}${params[k]}` : sql.raw(p))));
    };
    return {
      tx: (fn, opts = {}) => db.transaction(fn, opts.serializable ? { isolationLevel: 'serializable' } : undefined),
      nest: (tx, fn) => tx.transaction(fn),
      q: (tx, text, params) => tx.execute(bind(text, params)),
      close: () => db.$client.end(),
    };
  },
  async typeorm(o) {
    peer('reflect-metadata');
    const { DataSource } = peer('typeorm');
    const ds = new DataSource({
      type: 'postgres', host: o.host, port: o.port, username: o.user, database: o.dbname,
      poolSize: 1, driver,
    });
    await ds.initialize();
    return {
      tx: (fn, opts = {}) => (opts.serializable ? ds.transaction('SERIALIZABLE', fn) : ds.transaction(fn)),
      nest: (m, fn) => m.transaction(fn),
      q: (m, text, params) => m.query(text, params),
      close: () => ds.destroy(),
    };
  },
  async prisma(o) {
    const { PrismaPg } = peer('@prisma/adapter-pg');
    const { TransactionManager } = peer('@prisma/client-engine-runtime');
    const config = { ...pgConfig(o) };
    if (DRIVER === 'pgatomic') config.Client = driver.Client;
    const adapter = await new PrismaPg(config).connect();
    const OPTIONS = { maxWait: 10000, timeout: 60000 };
    const tm = new TransactionManager({
      driverAdapter: adapter, transactionOptions: OPTIONS, onQuery: () => {}, provider: 'postgres',
      tracingHelper: {
        isEnabled: () => false, getTraceParent: () => '00-10-10-00', dispatchEngineSpans: () => {},
        getActiveContext: () => undefined, runInChildSpan: (_, fn) => fn(),
      },
    });
    // What PrismaClient.$transaction does, on the runtime's TransactionManager.
    return {
      async tx(fn, opts = {}) {
        const { id } = await tm.startTransaction({ ...OPTIONS, ...(opts.serializable ? { isolationLevel: 'SERIALIZABLE' } : {}) });
        try {
          const tx = await tm.getTransaction({ id }, 'query');
          tx.id = id;
          const r = await fn(tx);
          await tm.commitTransaction(id);
          return r;
        } catch (err) {
          await tm.rollbackTransaction(id).catch(() => {});
          throw err;
        }
      },
      async nest(tx, fn) {
        await tm.startTransaction({ ...OPTIONS, newTxId: tx.id });
        try {
          await fn(tx);
          await tm.commitTransaction(tx.id);
        } catch (err) {
          await tm.rollbackTransaction(tx.id);
          throw err;
        }
      },
      q: (tx, text, params) => tx.executeRaw({
        sql: text, args: params, argTypes: params.map(() => ({ scalarType: 'int', arity: 'scalar' })),
      }),
      close: () => adapter.dispose(),
    };
  },
};

main(`node-${ORM}-${DRIVER}`, async (o) => {
  if (!ORMS[ORM] || !['pg', 'pgatomic'].includes(DRIVER)) {
    throw new Error(`usage: node-orm.js ${Object.keys(ORMS).join('|')} pg|pgatomic --shape ...`);
  }
  const orm = await ORMS[ORM](o);
  const { q, nest } = orm;
  const tx = orm.controlled || orm.tx;   // Kysely's savepoints need a controlled transaction
  return {
    shapes: {
      insert: (i) => orm.tx((t) => q(t, SQL_INSERT, [i])),
      transfer(i) {
        const [from, to] = accounts(i);
        return orm.tx(async (t) => {
          await q(t, SQL_DEBIT, [1, from]);
          await q(t, SQL_CREDIT, [1, to]);
        });
      },
      serializable: (i) => orm.tx((t) => q(t, SQL_SELECT, [accounts(i)[0]]), { serializable: true }),
      nested: (i) => tx(async (t) => {
        await q(t, SQL_INSERT, [i]);
        await nest(t, (t2) => q(t2, SQL_INSERT, [i]));
      }),
      nestedfail: (i) => tx(async (t) => {
        await q(t, SQL_INSERT, [i]);
        await nest(t, async (t2) => {
          await q(t2, SQL_INSERT, [i]);
          throw new Inner();
        }).catch((err) => { if (!(err instanceof Inner)) throw err; });
      }),
      empty: () => orm.tx(async () => {}),
      emptynested: () => tx((t) => nest(t, async () => {})),
    },
    close: orm.close,
  };
});
