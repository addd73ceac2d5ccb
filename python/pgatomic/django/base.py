"""The Django database backend ``ENGINE: "pgatomic.django"``.

It is Django's own PostgreSQL backend with the driver swapped: SQL,
features, schema editing and introspection are inherited; connections,
cursors, transactions and savepoints go to ``pgatomic.dbapi`` and through
it to pgatomic's engine.  What changes for the application:

- ``transaction.atomic()`` turns autocommit off; the engine sends BEGIN
  with the block's first statement instead of on its own.  A nested block's
  SAVEPOINT and its RELEASE / ROLLBACK TO ride with the next statement (or
  with the COMMIT), so ``atomic { create; atomic { create } }`` costs three
  round trips instead of six, and an empty block costs none.
- A COMMIT the server answers with ROLLBACK raises (Django on psycopg
  reports it as success); a connection lost while COMMIT was in flight
  raises ``CommitOutcomeUnknown``, a ``django.db.OperationalError`` that is
  also ``pgatomic.errors.CommitOutcomeUnknown``.
- Parameters always travel separately from the SQL (server-side binding),
  never interpolated into it.

Django's PostgreSQL modules import psycopg when they load, so this backend
needs the ``psycopg`` package installed (the pure-Python wheel is enough;
it loads the same libpq).  Nothing here calls it: the classes are
inherited and every method that would touch a psycopg object is
overridden below, in operations.py, features.py, schema.py,
introspection.py and creation.py.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from django.core.exceptions import ImproperlyConfigured
from django.db import utils as django_utils
from django.db.backends.postgresql import base as postgresql_base
from django.db.backends.utils import CursorDebugWrapper, debug_transaction
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property

from .. import dbapi as Database
from .creation import DatabaseCreation
from .cursor import Cursor, ServerSideCursor
from .errors import DatabaseErrorWrapper
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]

# OPTIONS["isolation_level"]: psycopg.IsolationLevel's values (Django's
# documentation shows them) or PostgreSQL's words.
_ISOLATION_LEVELS = {
    1: "read uncommitted", 2: "read committed", 3: "repeatable read", 4: "serializable",
}
# The keys of OPTIONS that are psycopg's rather than libpq's: refused, or
# accepted with nothing to do.  Every other key goes to libpq.
_UNSUPPORTED_OPTIONS = {
    "pool": "connection pooling (OPTIONS['pool']) is psycopg_pool's; use "
            "CONN_MAX_AGE or an external pooler such as PgBouncer",
    "cursor_factory": "cursor_factory is a psycopg option",
    "context": "context is a psycopg option",
}
# Accepted and meaningless here: parameters always travel separately.
# (prepare_threshold is the driver's, as with psycopg: it goes to connect().)
_IGNORED_OPTIONS = ("server_side_binding",)


def _isolation_level(value: Any) -> str:
    """OPTIONS['isolation_level'] checked, as the words PostgreSQL reads."""
    if isinstance(value, str) and value.lower() in _ISOLATION_LEVELS.values():
        return value.lower()
    if isinstance(value, int) and not isinstance(value, bool) and value in _ISOLATION_LEVELS:
        return _ISOLATION_LEVELS[int(value)]
    raise ImproperlyConfigured(
        f"Invalid transaction isolation level {value} specified. Use one of the "
        f"psycopg.IsolationLevel values. (pgatomic.django also accepts the words: "
        f"{', '.join(repr(w) for w in _ISOLATION_LEVELS.values())}.)")


class DatabaseWrapper(postgresql_base.DatabaseWrapper):

    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations

    # -- connections ----------------------------------------------------------
    @property
    def pool(self) -> None:
        # psycopg_pool's; OPTIONS["pool"] is refused when connecting.
        return None

    def get_connection_params(self) -> Dict[str, Any]:
        settings_dict = self.settings_dict
        options = dict(settings_dict["OPTIONS"])
        for key, why in _UNSUPPORTED_OPTIONS.items():
            if options.get(key):
                raise ImproperlyConfigured(f"pgatomic.django: {why}.")
        for key in ("isolation_level", "assume_role", "pool", *_IGNORED_OPTIONS):
            options.pop(key, None)
        name = settings_dict["NAME"]
        if name == "" and not options.get("service"):
            raise ImproperlyConfigured(
                "settings.DATABASES is improperly configured. "
                "Please supply the NAME or OPTIONS['service'] value.")
        if len(name or "") > self.ops.max_name_length():
            raise ImproperlyConfigured(
                "The database name '%s' (%d characters) is longer than "
                "PostgreSQL's limit of %d characters. Supply a shorter NAME "
                "in settings.DATABASES." % (name, len(name), self.ops.max_name_length()))
        params: Dict[str, Any] = {}
        if name:
            params["dbname"] = name
        elif name is None:
            # Django's convention: None means the 'postgres' maintenance db.
            options.pop("service", None)
            params["dbname"] = "postgres"
        params.update(options)
        for key, libpq_key in (("USER", "user"), ("PASSWORD", "password"),
                               ("HOST", "host"), ("PORT", "port")):
            if settings_dict[key]:
                params[libpq_key] = settings_dict[key]
        return params

    @async_unsafe
    def get_new_connection(self, conn_params: Dict[str, Any]) -> Any:
        options = self.settings_dict["OPTIONS"]
        level = options.get("isolation_level")
        # Django reads self.isolation_level (e.g. in its tests); psycopg's
        # enum when it is importable keeps the stock backend's values.
        self.isolation_level = (
            postgresql_base.IsolationLevel.READ_COMMITTED if level is None
            else postgresql_base.IsolationLevel[_isolation_level(level).upper().replace(" ", "_")])
        # The driver's default is PEP 249's (autocommit off); Django sets the
        # mode it wants right after this.
        connection = Database.connect(**conn_params)
        # JSONField parses the text itself, with the field's own decoder.
        connection.json_loads = str
        if level is not None:
            # Applied to every BEGIN, which travels with the first statement.
            connection.isolation_level = level
        return connection

    def _configure_timezone(self, connection: Any) -> bool:
        timezone_name = self.timezone_name
        if timezone_name and connection.parameter_status("TimeZone") != timezone_name:
            with connection.cursor() as cursor:
                cursor.execute(self.ops.set_time_zone_sql(), [timezone_name])
            return True
        return False

    @cached_property
    def pg_version(self) -> int:
        with self.temporary_connection():
            return self.connection.server_version

    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Database.Error:
            return False
        return True

    # -- cursors ----------------------------------------------------------------
    @async_unsafe
    def create_cursor(self, name: Optional[str] = None) -> Any:
        if name:
            # Django's chunked_cursor() names it: QuerySet.iterator() reads a
            # server-side cursor, as on Django's psycopg backend.  In
            # autocommit it is held past its implicit transaction's COMMIT
            # (WITH HOLD), as there.
            cursor = ServerSideCursor(self.connection, name, scrollable=False,
                                      withhold=self.connection.autocommit)
        else:
            cursor = Cursor(self.connection)
        cursor._timezone = self.timezone
        return cursor

    def make_debug_cursor(self, cursor: Any) -> Any:
        return CursorDebugWrapper(cursor, self)

    @cached_property
    def wrap_database_errors(self) -> django_utils.DatabaseErrorWrapper:
        return DatabaseErrorWrapper(self)

    # -- transactions and savepoints ------------------------------------------------
    # _set_autocommit, _commit and _rollback are Django's: autocommit off
    # makes the engine open a transaction with the next statement, and
    # commit()/rollback() send nothing when no statement ran.  Savepoints go
    # to the engine by name instead of as SQL through a cursor, so they are
    # deferred too; DEBUG still logs them like BEGIN and COMMIT.

    def _savepoint(self, sid: str) -> None:
        with debug_transaction(self, self.ops.savepoint_create_sql(sid)), \
                self.wrap_database_errors:
            self.connection.savepoint(sid)

    def _savepoint_rollback(self, sid: str) -> None:
        with debug_transaction(self, self.ops.savepoint_rollback_sql(sid)), \
                self.wrap_database_errors:
            self.connection.rollback_to_savepoint(sid)

    def _savepoint_commit(self, sid: str) -> None:
        with debug_transaction(self, self.ops.savepoint_commit_sql(sid)), \
                self.wrap_database_errors:
            self.connection.release_savepoint(sid)

