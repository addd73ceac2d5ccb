"""Concurrency: 8 threads move money between a few accounts at SERIALIZABLE
with whole-transaction retries.  Each transfer reads both balances and
writes back values computed in Python (a read-modify-write that loses
updates under weaker isolation), and records itself in `transfers` in the
same transaction.  Afterwards: the total is unchanged, every balance equals
its start plus what the recorded transfers moved (no lost update), and
retries really happened (counted with transaction.last_attempts())."""

import os
import random
import threading
import time

import pgatomic
from pgatomic import transaction
from pgatomic.transaction import run_in_transaction

from faultlib import deadline, direct

THREADS = 8
ACCOUNTS = 4
START = 10_000
SECONDS = float(os.environ.get("PGA_CONCURRENCY_SECONDS") or 3)


def test_serializable_transfers_with_retries(tables, capsys):
    accounts = tables.make("id int PRIMARY KEY, balance bigint NOT NULL", prefix="acct")
    transfers = tables.make("id bigint PRIMARY KEY, src int, dst int, amount bigint",
                            prefix="xfer")
    tables.admin.executemany(f"INSERT INTO {accounts} VALUES ($1, $2)",
                             [(i, START) for i in range(ACCOUNTS)])
    stop_at = time.monotonic() + SECONDS
    stats = [dict(done=0, retries=0, gave_up=0, gave_up_ids=[]) for _ in range(THREADS)]
    errors = []

    def transfer(tid, src, dst, amount):
        c = pgatomic.connection
        (a,) = c.execute(f"SELECT balance FROM {accounts} WHERE id = $1", [src]).rows[0]
        (b,) = c.execute(f"SELECT balance FROM {accounts} WHERE id = $1", [dst]).rows[0]
        c.execute(f"UPDATE {accounts} SET balance = $1 WHERE id = $2", [a - amount, src])
        c.execute(f"UPDATE {accounts} SET balance = $1 WHERE id = $2", [b + amount, dst])
        c.execute(f"INSERT INTO {transfers} VALUES ($1, $2, $3, $4)", [tid, src, dst, amount])

    def worker(n):
        rng = random.Random(n)
        s = stats[n]
        try:
            seq = 0
            while time.monotonic() < stop_at:
                seq += 1
                tid = n * 1_000_000 + seq
                src, dst = rng.sample(range(ACCOUNTS), 2)
                try:
                    run_in_transaction(transfer, tid, src, dst, rng.randint(1, 100),
                                       retries=30, isolation="serializable")
                except (pgatomic.SerializationFailure, pgatomic.DeadlockDetected):
                    s["gave_up"] += 1
                    s["gave_up_ids"].append(tid)
                else:
                    s["done"] += 1
                s["retries"] += transaction.last_attempts() - 1
        except BaseException as e:
            errors.append(e)
        finally:
            pgatomic.connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    with deadline(SECONDS + 60, "the transfer threads"):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    done = sum(s["done"] for s in stats)
    retries = sum(s["retries"] for s in stats)
    gave_up = sum(s["gave_up"] for s in stats)
    check = direct()
    try:
        balances = dict(check.execute(f"SELECT id, balance FROM {accounts}").rows)
        moved = check.execute(f"SELECT src, dst, amount FROM {transfers}").rows
        ids = {i for (i,) in check.execute(f"SELECT id FROM {transfers}").rows}
    finally:
        check.close()
    with capsys.disabled():
        print(f"\nconcurrency: {THREADS} threads, {SECONDS:g} s: {done} transfers committed, "
              f"{retries} retries, {gave_up} gave up after 31 attempts")
    assert sum(balances.values()) == START * ACCOUNTS
    expected = {i: START for i in range(ACCOUNTS)}
    for src, dst, amount in moved:
        expected[src] -= amount
        expected[dst] += amount
    assert balances == expected             # no lost update
    assert len(moved) == done               # every success recorded once...
    assert not ids & {i for s in stats for i in s["gave_up_ids"]}   # ...no failure
    assert done > 0
    assert retries > 0
