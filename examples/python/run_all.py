"""Run every seed example in order (scripts/demo-python.sh calls this)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seed_000_order_from_cart  # noqa: E402
import seed_001_add_funds  # noqa: E402
import seed_002_set_rollback  # noqa: E402
import seed_004_budget_tracker  # noqa: E402
import seed_004_sqlalchemy  # noqa: E402

for module in (seed_000_order_from_cart, seed_001_add_funds, seed_002_set_rollback,
               seed_004_budget_tracker, seed_004_sqlalchemy):
    module.main()
    print()
