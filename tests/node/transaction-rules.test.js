'use strict';
// One test per rule of API.md section 2.2, asserting the rows afterwards
// and the exact error class and message.
const { pgatomic, openDb, count } = require('./helpers');

const { Transaction, TransactionError, ConnectionError, DatabaseError } = pgatomic;
const T = 'rules_items';
let db;

beforeAll(async () => {
  db = openDb();
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (id serial PRIMARY KEY, name text NOT NULL UNIQUE)`);
});

afterAll(async () => {
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.close();
});

beforeEach(async () => {
  await db.query(`TRUNCATE ${T}`);
});

const insert = (name, t) => db.query(`INSERT INTO ${T} (name) VALUES ($1)`, [name],
  t === undefined ? undefined : { transaction: t });
const names = async () => (await db.query(`SELECT name FROM ${T} ORDER BY id`, [], { transaction: null }))
  .rows.map((r) => r.name);

describe('managed transactions', () => {
  test('commit_when_callback_resolves_with_its_value', async () => {
    const value = await db.transaction(async (t) => {
      await insert('a', t);
      return 42;
    });
    expect(value).toBe(42);
    expect(await names()).toEqual(['a']);
  });

  test('rollback_when_callback_throws_rethrowing_the_same_error', async () => {
    const boom = new Error('boom');
    let seen;
    await expect(db.transaction(async (t) => {
      seen = t;
      await insert('a', t);
      throw boom;
    })).rejects.toBe(boom);
    expect(seen.finished).toBe('rollback');
    expect(await names()).toEqual([]);
  });

  test('callback_runs_with_ambient_transaction', async () => {
    const err = new Error('undo');
    await expect(db.transaction(async (t) => {
      expect(db.currentTransaction()).toBe(t);
      await insert('ambient');  // no { transaction }: the ambient one
      expect(await count(db, T)).toBe(0);  // invisible outside
      throw err;
    })).rejects.toBe(err);
    expect(db.currentTransaction()).toBeUndefined();
    expect(await names()).toEqual([]);
  });

  test('transaction_null_escapes_the_ambient_transaction', async () => {
    await expect(db.transaction(async () => {
      await db.query(`INSERT INTO ${T} (name) VALUES ('outside')`, [], { transaction: null });
      throw new Error('undo');
    })).rejects.toThrow('undo');
    expect(await names()).toEqual(['outside']);
  });

  test('failed_commit_rejects_with_the_commit_error_and_sends_no_rollback', async () => {
    await db.query('DROP TABLE IF EXISTS rules_child');
    await db.query('DROP TABLE IF EXISTS rules_parent');
    await db.query('CREATE TABLE rules_parent (id int PRIMARY KEY)');
    await db.query(`CREATE TABLE rules_child (pid int REFERENCES rules_parent (id)
      DEFERRABLE INITIALLY DEFERRED)`);
    let t;
    const rolledBack = jest.fn();
    const committed = jest.fn();
    const err = await db.transaction(async (tx) => {
      t = tx;
      tx.afterRollback(rolledBack);
      tx.afterCommit(committed);
      await db.query('INSERT INTO rules_child (pid) VALUES (1)');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(pgatomic.ForeignKeyConstraintError);
    expect(err.code).toBe('23503');
    expect(t.finished).toBe('rollback');
    expect(rolledBack).toHaveBeenCalledWith(t);
    expect(committed).not.toHaveBeenCalled();
    // BEGIN+INSERT, then COMMIT: no ROLLBACK round trip after the failure.
    expect(t.roundTrips).toBe(2);
    expect(await count(db, 'rules_child')).toBe(0);
    await db.query('DROP TABLE rules_child');
    await db.query('DROP TABLE rules_parent');
  });
});

describe('unmanaged transactions', () => {
  test('await_transaction_then_commit', async () => {
    const t = await db.transaction();
    expect(t).toBeInstanceOf(Transaction);
    expect(t.parent).toBeNull();
    await insert('u1', t);
    expect(await count(db, T)).toBe(0);
    await t.commit();
    expect(t.finished).toBe('commit');
    expect(await names()).toEqual(['u1']);
  });

  test('start_unmanaged_transaction_then_rollback', async () => {
    const t = await db.startUnmanagedTransaction();
    await insert('u2', t);
    await t.rollback();
    expect(t.finished).toBe('rollback');
    expect(await names()).toEqual([]);
  });

  test('unmanaged_ignores_the_ambient_transaction', async () => {
    await db.transaction(async (outer) => {
      const t = await db.transaction();
      expect(t.parent).toBeNull();
      await insert('independent', t);
      await t.commit();
      await insert('outer', outer);
      throw new Error('undo outer');
    }).catch(() => {});
    expect(await names()).toEqual(['independent']);
  });

  test('unmanaged_with_parent_is_a_savepoint', async () => {
    const root = await db.transaction();
    await insert('root', root);
    const sp = await db.startUnmanagedTransaction({ transaction: root });
    expect(sp.parent).toBe(root);
    await insert('sp', sp);
    await sp.rollback();
    await root.commit();
    expect(await names()).toEqual(['root']);
  });
});

describe('ambient transaction and hooks', () => {
  test('ambient_belongs_to_one_database', async () => {
    const other = openDb({ max: 1 });
    try {
      await db.transaction(async (t) => {
        expect(db.currentTransaction()).toBe(t);
        expect(other.currentTransaction()).toBeUndefined();
      });
    } finally {
      await other.close();
    }
  });

  test('query_inside_afterCommit_runs_on_its_own', async () => {
    let hookResult;
    await db.transaction(async (t) => {
      await insert('x', t);
      t.afterCommit(async () => {
        expect(db.currentTransaction()).toBeUndefined();
        hookResult = await db.query(`SELECT count(*)::int AS n FROM ${T}`);
      });
    });
    expect(hookResult.rows[0].n).toBe(1);
  });
});

describe('options', () => {
  test('isolation_level_is_applied', async () => {
    const levels = Transaction.ISOLATION_LEVELS;
    expect(levels).toEqual({
      READ_UNCOMMITTED: 'READ UNCOMMITTED',
      READ_COMMITTED: 'READ COMMITTED',
      REPEATABLE_READ: 'REPEATABLE READ',
      SERIALIZABLE: 'SERIALIZABLE',
    });
    const level = await db.transaction({ isolationLevel: levels.SERIALIZABLE }, async () =>
      (await db.query("SELECT current_setting('transaction_isolation') AS l")).rows[0].l);
    expect(level).toBe('serializable');
    const rr = await db.transaction({ isolationLevel: levels.REPEATABLE_READ }, async () =>
      (await db.query("SELECT current_setting('transaction_isolation') AS l")).rows[0].l);
    expect(rr).toBe('repeatable read');
  });

  test('read_only_rejects_writes', async () => {
    const err = await db.transaction({ readOnly: true }, async () => {
      expect((await db.query('SHOW transaction_read_only')).rows[0].transaction_read_only).toBe('on');
      await insert('ro');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.code).toBe('25006');
    expect(await names()).toEqual([]);
  });

  test('deferrable_is_applied', async () => {
    const d = await db.transaction({
      isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE, readOnly: true, deferrable: true,
    }, async () => (await db.query('SHOW transaction_deferrable')).rows[0].transaction_deferrable);
    expect(d).toBe('on');
  });
});

describe('nesting', () => {
  test('nested_transaction_is_a_savepoint_released_on_success', async () => {
    await db.transaction(async (outer) => {
      await insert('outer');
      await db.transaction(async (inner) => {
        expect(inner.parent).toBe(outer);
        expect(db.currentTransaction()).toBe(inner);
        await insert('inner');
      });
      expect(db.currentTransaction()).toBe(outer);
    });
    expect(await names()).toEqual(['outer', 'inner']);
  });

  test('nested_failure_rolls_back_to_savepoint', async () => {
    await db.transaction(async () => {
      await insert('kept');
      const err = new Error('inner fails');
      await expect(db.transaction(async () => {
        await insert('dropped');
        throw err;
      })).rejects.toBe(err);
      await insert('after');
    });
    expect(await names()).toEqual(['kept', 'after']);
  });

  test('nest_mode_reuse_hands_over_the_parent', async () => {
    await db.transaction(async (t1) => {
      await db.transaction({ nestMode: 'reuse' }, async (t2) => {
        expect(t2).toBe(t1);
      });
      await expect(db.transaction({ nestMode: 'reuse', isolationLevel: Transaction.ISOLATION_LEVELS.READ_UNCOMMITTED },
        async () => {})).rejects.toThrow(new TransactionError(
        'Requested isolation level (READ UNCOMMITTED) is not compatible with the one of the existing transaction (unspecified)'));
      const e = await db.transaction({ nestMode: 'reuse', readOnly: true }, async () => {}).catch((x) => x);
      expect(e).toBeInstanceOf(TransactionError);
      expect(e.message).toBe(
        'Requested a transaction in read-only mode, which is not compatible with the existing read/write transaction');
    });
  });

  test('nest_mode_separate_uses_another_connection', async () => {
    await db.transaction(async (outer) => {
      const outerPid = (await db.query('SELECT pg_backend_pid() AS p')).rows[0].p;
      await insert('outer');
      await db.transaction({ nestMode: 'separate' }, async (sep) => {
        expect(sep.parent).toBeNull();
        expect(sep).not.toBe(outer);
        const pid = (await db.query('SELECT pg_backend_pid() AS p')).rows[0].p;
        expect(pid).not.toBe(outerPid);
        await insert('separate');
      });
      throw new Error('undo outer');
    }).catch(() => {});
    expect(await names()).toEqual(['separate']);
  });

  test('options_on_a_nested_savepoint_reject_with_TransactionError', async () => {
    await db.transaction(async () => {
      for (const opts of [
        { isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE },
        { readOnly: true },
        { deferrable: true },
      ]) {
        const e = await db.transaction(opts, async () => {}).catch((x) => x);
        expect(e).toBeInstanceOf(TransactionError);
        expect(e.message).toMatch(/only be set on the outermost transaction/);
      }
      await insert('still usable');
    });
    expect(await names()).toEqual(['still usable']);
  });

  test('commit_of_parent_releases_open_descendants', async () => {
    const root = await db.transaction();
    const child = await db.transaction({ transaction: root });
    const grandchild = await db.transaction({ transaction: child });
    await insert('gc', grandchild);
    await root.commit();
    expect(child.finished).toBe('commit');
    expect(grandchild.finished).toBe('commit');
    expect(await names()).toEqual(['gc']);
    const e = await insert('late', grandchild).catch((x) => x);
    expect(e).toBeInstanceOf(TransactionError);
    expect(e.message).toBe(`commit has been called on this transaction(${grandchild.id}), you can no longer use it. (The rejected query is attached as the 'sql' property of this error)`);
  });

  test('rollback_of_parent_undoes_open_descendants', async () => {
    const root = await db.transaction();
    await insert('root', root);
    const child = await db.transaction({ transaction: root });
    await insert('child', child);
    await root.rollback();
    expect(child.finished).toBe('rollback');
    expect(await names()).toEqual([]);
    await expect(child.commit()).rejects.toThrow(
      'Transaction cannot be committed because it has been finished with state: rollback');
  });

  test('rollback_of_savepoint_undoes_later_sibling_savepoints', async () => {
    const root = await db.transaction();
    const a = await db.transaction({ transaction: root });
    await insert('a', a);
    const b = await db.transaction({ transaction: root });
    await insert('b', b);
    await a.rollback();
    expect(b.finished).toBe('rollback');
    await insert('root', root);
    await root.commit();
    expect(await names()).toEqual(['root']);
  });
});

describe('Transaction object', () => {
  test('finished_parent_and_id', async () => {
    const t = await db.transaction();
    expect(t.finished).toBeUndefined();
    expect(t.parent).toBeNull();
    const c = await db.transaction({ transaction: t });
    expect(c.parent).toBe(t);
    expect(c.id).not.toBe(t.id);
    await t.commit();
    expect(t.finished).toBe('commit');
    const u = await db.transaction();
    expect(u.id).not.toBe(t.id);
    await u.rollback();
    expect(u.finished).toBe('rollback');
  });

  test('hooks_run_in_order_awaited_before_commit_resolves', async () => {
    const calls = [];
    const t = await db.transaction();
    t.afterCommit(async (arg) => {
      expect(arg).toBe(t);
      await new Promise((r) => setTimeout(r, 20));
      calls.push('c1');
    });
    t.afterTransaction(() => calls.push('after'));
    t.afterCommit(() => calls.push('c2'));
    t.afterRollback(() => calls.push('never'));
    await insert('h', t);
    await t.commit();
    expect(calls).toEqual(['c1', 'c2', 'after']);
  });

  test('afterRollback_and_afterTransaction_run_on_rollback', async () => {
    const calls = [];
    await db.transaction(async (t) => {
      t.afterCommit(() => calls.push('commit'));
      t.afterRollback((arg) => calls.push(arg === t ? 'rollback' : 'wrong'));
      t.afterTransaction(() => calls.push('after'));
      throw new Error('x');
    }).catch(() => {});
    expect(calls).toEqual(['rollback', 'after']);
  });

  test('savepoint_hooks_wait_for_root_commit_and_drop_on_savepoint_rollback', async () => {
    const calls = [];
    await db.transaction(async (root) => {
      await db.transaction(async (sp) => {
        sp.afterCommit(() => calls.push('released sp'));
      });
      expect(calls).toEqual([]);  // not before the root COMMIT
      await db.transaction(async (sp) => {
        sp.afterCommit(() => calls.push('rolled back sp'));
        throw new Error('undo sp');
      }).catch(() => {});
      root.afterCommit(() => calls.push('root'));
    });
    expect(calls).toEqual(['released sp', 'root']);
  });

  test('hook_argument_not_a_function_throws_synchronously', async () => {
    const t = await db.transaction();
    for (const m of ['afterCommit', 'afterRollback', 'afterTransaction']) {
      expect(() => t[m]('nope')).toThrow(TypeError);
      expect(() => t[m](null)).toThrow('"callback" must be a function');
    }
    await t.rollback();
  });
});

describe('verbatim errors', () => {
  test('commit_or_rollback_twice', async () => {
    const t = await db.transaction();
    await t.commit();
    await expect(t.commit()).rejects.toThrow(new TransactionError(
      'Transaction cannot be committed because it has been finished with state: commit'));
    await expect(t.rollback()).rejects.toThrow(
      'Transaction cannot be rolled back because it has been finished with state: commit');
    const u = await db.transaction();
    await u.rollback();
    const e1 = await u.commit().catch((e) => e);
    expect(e1).toBeInstanceOf(TransactionError);
    expect(e1.message).toBe('Transaction cannot be committed because it has been finished with state: rollback');
    const e2 = await u.rollback().catch((e) => e);
    expect(e2).toBeInstanceOf(TransactionError);
    expect(e2.message).toBe('Transaction cannot be rolled back because it has been finished with state: rollback');
  });

  test('query_on_finished_transaction_has_sql_attached', async () => {
    const t = await db.transaction();
    await t.rollback();
    const sql = `INSERT INTO ${T} (name) VALUES ('late')`;
    const e = await db.query(sql, [], { transaction: t }).catch((x) => x);
    expect(e).toBeInstanceOf(TransactionError);
    expect(e.message).toBe(`rollback has been called on this transaction(${t.id}), you can no longer use it. (The rejected query is attached as the 'sql' property of this error)`);
    expect(e.sql).toBe(sql);
    const c = await db.transaction();
    await c.commit();
    const e2 = await c.query('SELECT 1').catch((x) => x);
    expect(e2.message).toBe(`commit has been called on this transaction(${c.id}), you can no longer use it. (The rejected query is attached as the 'sql' property of this error)`);
    expect(await names()).toEqual([]);
  });

  test('callback_must_be_a_function', async () => {
    for (const bad of [42, 'x', {}]) {
      const e = await db.transaction({}, bad).catch((x) => x);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('"callback" must be a function');
    }
  });

  test('database_used_after_close', async () => {
    const d = openDb();
    await d.query('SELECT 1');
    await d.close();
    for (const p of [d.query('SELECT 1'), d.transaction(async () => {}), d.transaction(),
      d.startUnmanagedTransaction()]) {
      const e = await p.catch((x) => x);
      expect(e).toBeInstanceOf(ConnectionError);
      expect(e.message).toBe('Database is closed');
    }
  });

  test('commit_after_a_caught_error_is_reported_as_rollback', async () => {
    let t;
    let stmtError;
    const e = await db.transaction(async (tx) => {
      t = tx;
      await insert('dup');
      stmtError = await insert('dup').catch((x) => x);
      expect(stmtError).toBeInstanceOf(pgatomic.UniqueConstraintError);
    }).catch((x) => x);
    expect(e).toBeInstanceOf(TransactionError);
    expect(e.cause).toBe(stmtError);
    expect(t.finished).toBe('rollback');
    expect(await names()).toEqual([]);
  });
});

describe('hook errors', () => {
  test('a_throwing_afterCommit_rejects_commit_after_the_data_is_committed', async () => {
    const boom = new Error('hook failed');
    const later = jest.fn();
    const t = await db.transaction();
    await insert('kept', t);
    t.afterCommit(() => { throw boom; });
    t.afterCommit(later);
    await expect(t.commit()).rejects.toBe(boom);
    expect(t.finished).toBe('commit');
    expect(later).not.toHaveBeenCalled();
    expect(await names()).toEqual(['kept']);
  });
});
