"""SQLAlchemy's pytest plugin, with postgresql+pgatomic registered from this
checkout (pip install also registers it, through its entry point)."""

import pytest
from sqlalchemy.dialects import registry

registry.register("postgresql.pgatomic", "pgatomic.sqlalchemy", "PGDialect_pgatomic")

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F401,F403
