"""Run every asyncio seed example in order, each in its own task of one
event loop (scripts/demo-python.sh calls this after examples/python/run_all.py)."""

import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))     # examples/python: _schema and the aio package

from aio import (  # noqa: E402
    seed_000_order_from_cart,
    seed_001_add_funds,
    seed_002_set_rollback,
    seed_004_budget_tracker,
)


async def main():
    for module in (seed_000_order_from_cart, seed_001_add_funds, seed_002_set_rollback,
                   seed_004_budget_tracker):
        await asyncio.create_task(module.main())
        print()

asyncio.run(main())
