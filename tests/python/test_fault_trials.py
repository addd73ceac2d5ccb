"""A randomized fault run: money moves between accounts through the proxy
while faults hit random protocol moments.  After every trial the database
(read from a direct connection) must hold either the whole transfer or none
of it, the total must be unchanged, and what the caller was told must match:
success -> applied; OperationalError -> not applied; CommitOutcomeUnknown ->
either, and the transfer's row in `transfers` (written in the same
transaction) tells which.

    PGA_FAULT_SEED=1234 PGA_FAULT_TRIALS=1000 bash scripts/suite-python.sh \\
        tests/python/test_fault_trials.py

reproduces a run (the seed is printed at the start of the run; default
150 trials)."""

import os
import random
import time

import pytest

import pgatomic
from pgatomic import CommitOutcomeUnknown, OperationalError
from pgatomic.transaction import atomic

from faultlib import Proxy, deadline, direct

ACCOUNTS = 8
START = 1000

# What can go wrong, and where.  Statements carry markers /*tN*/.
STATEMENTS = ("t1", "t2", "t3")
FAULT_KINDS = (
    ["none"] * 3
    + [f"{w}:{m}" for w in ("before", "after") for m in ("^BEGIN",) + tuple(f"/*{s}*/" for s in STATEMENTS)]
    + ["before:^COMMIT", "after:^COMMIT", "before:^COMMIT", "after:^COMMIT"]
    + [f"kill:{s}" for s in STATEMENTS]
)


@pytest.fixture
def bank(tables):
    accounts = tables.make("id int PRIMARY KEY, balance bigint NOT NULL", prefix="acct")
    transfers = tables.make("id int PRIMARY KEY, src int, dst int, amount bigint",
                            prefix="xfer")
    tables.admin.executemany(f"INSERT INTO {accounts} VALUES ($1, $2)",
                             [(i, START) for i in range(ACCOUNTS)])
    return accounts, transfers


def _transfer(accounts, transfers, tid, src, dst, amount, use_savepoint, kill_after, proxy):
    c = pgatomic.connection
    with atomic():
        c.execute(f"UPDATE {accounts} SET balance = balance - $1 WHERE id = $2 /*t1*/",
                  [amount, src])
        if kill_after == "t1":
            proxy.kill()
        c.execute(f"UPDATE {accounts} SET balance = balance + $1 WHERE id = $2 /*t2*/",
                  [amount, dst])
        if kill_after == "t2":
            proxy.kill()
        if use_savepoint:
            with atomic():
                c.execute(f"INSERT INTO {transfers} VALUES ($1, $2, $3, $4) /*t3*/",
                          [tid, src, dst, amount])
        else:
            c.execute(f"INSERT INTO {transfers} VALUES ($1, $2, $3, $4) /*t3*/",
                      [tid, src, dst, amount])
        if kill_after == "t3":
            proxy.kill()


def test_random_fault_trials(bank, capsys):
    accounts, transfers = bank
    seed = int(os.environ.get("PGA_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    trials = int(os.environ.get("PGA_FAULT_TRIALS") or 150)
    with capsys.disabled():
        print(f"\nfault trials: PGA_FAULT_SEED={seed} PGA_FAULT_TRIALS={trials}")
    rng = random.Random(seed)
    proxy = Proxy()
    observer = direct()
    pgatomic.configure(default=proxy.dsn())
    balances = [START] * ACCOUNTS
    applied, outcomes = set(), {}
    started = time.monotonic()
    try:
        with deadline(60 + trials * 0.5, "the fault trials"):
            for tid in range(trials):
                where = f"seed={seed} trial={tid}"
                src, dst = rng.sample(range(ACCOUNTS), 2)
                amount = rng.randint(1, 50)
                fault = rng.choice(FAULT_KINDS)
                use_savepoint = rng.random() < 0.5
                kill_after = None
                pgatomic.connection.execute("SELECT 1")     # connect outside the fault
                if fault.startswith(("before:", "after:")):
                    when, pattern = fault.split(":", 1)
                    proxy.arm(when, pattern)
                elif fault.startswith("kill:"):
                    kill_after = fault.split(":", 1)[1]
                try:
                    _transfer(accounts, transfers, tid, src, dst, amount, use_savepoint,
                              kill_after, proxy)
                except CommitOutcomeUnknown:
                    told = "unknown"
                except OperationalError:
                    told = "failed"
                else:
                    told = "committed"
                finally:
                    proxy.disarm()
                outcomes[(fault.split(":")[0], told)] = outcomes.get((fault.split(":")[0], told), 0) + 1
                found = observer.execute(
                    f"SELECT src, dst, amount FROM {transfers} WHERE id = $1", [tid]).rows
                if told == "committed":
                    assert found == [(src, dst, amount)], where
                elif told == "failed":
                    assert found == [], where
                if found:
                    applied.add(tid)
                    balances[src] -= amount
                    balances[dst] += amount
                # A fault with nothing to hit would hide a broken harness.
                if fault != "none":
                    assert told != "committed", f"{where}: fault {fault} did not fire"
                # Whole-or-nothing, checked on every trial.
                now = [b for (b,) in observer.execute(
                    f"SELECT balance FROM {accounts} ORDER BY id").rows]
                assert now == balances, where
                assert not pgatomic.connection.in_atomic_block
    finally:
        observer.close()
        pgatomic.connections.close_all()
        proxy.close()
    elapsed = time.monotonic() - started
    check = direct()
    try:
        total = check.execute(f"SELECT sum(balance) FROM {accounts}").scalar()
        ids = {i for (i,) in check.execute(f"SELECT id FROM {transfers}").rows}
    finally:
        check.close()
    assert total == START * ACCOUNTS, f"seed={seed}"
    assert ids == applied, f"seed={seed}"
    with capsys.disabled():
        print(f"fault trials: {trials} trials in {elapsed:.1f} s, "
              f"{len(applied)} transfers applied; outcomes "
              + ", ".join(f"{k[0]}->{k[1]}: {v}" for k, v in sorted(outcomes.items())))
    # Every kind of outcome was exercised.
    if trials >= 100:
        told_kinds = {k[1] for k in outcomes}
        assert told_kinds == {"committed", "failed", "unknown"}, outcomes
