"""SQLAlchemy's dialect compliance suite, unmodified but for one helper.

ServerSideCursorsTest._is_server_side() tells a server-side cursor from a
buffered one by driver name, and knows only the drivers inside SQLAlchemy's
tree (its own TODO: "this is a huge issue as it prevents these tests from
being usable by third party dialects"); for any other driver it answers
False, so the tests expecting a server-side cursor fail and the ones
expecting none pass without looking.  It is taught pgatomic's drivers here,
with the rule it applies to psycopg (the DB-API cursor has a name); every
other driver keeps SQLAlchemy's answer.  No test is changed."""

from sqlalchemy.testing.suite import *  # noqa: F401,F403
from sqlalchemy.testing.suite import ServerSideCursorsTest as _SSCursors

_sqlalchemy_is_server_side = _SSCursors._is_server_side


def _is_server_side(self, cursor):
    if self.engine.dialect.driver in ("pgatomic", "pgatomic_async"):
        return bool(getattr(cursor, "name", False))
    return _sqlalchemy_is_server_side(self, cursor)


_SSCursors._is_server_side = _is_server_side
