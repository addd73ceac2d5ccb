"""SQLAlchemy's pytest plugin, with postgresql+pgatomic and its asyncio twin
postgresql+pgatomic_async registered from this checkout (pip install also
registers them, through their entry points)."""

import pytest
from sqlalchemy.dialects import registry

registry.register("postgresql.pgatomic", "pgatomic.sqlalchemy", "PGDialect_pgatomic")
registry.register("postgresql.pgatomic_async", "pgatomic.sqlalchemy", "PGDialectAsync_pgatomic")

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F401,F403
