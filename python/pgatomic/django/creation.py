"""Test databases: Django's PostgreSQL creation, recognising "database
already exists" by its SQLSTATE instead of psycopg's class."""

from __future__ import annotations

import sys
from typing import Any, Dict

from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.backends.postgresql import creation as postgresql_creation

__all__ = ["DatabaseCreation"]

DUPLICATE_DATABASE = "42P04"


class DatabaseCreation(postgresql_creation.DatabaseCreation):
    def _execute_create_test_db(self, cursor: Any, parameters: Dict[str, Any],
                                keepdb: bool = False) -> None:
        try:
            if keepdb and self._database_exists(cursor, parameters["dbname"]):
                return
            BaseDatabaseCreation._execute_create_test_db(self, cursor, parameters, keepdb)
        except Exception as e:
            if getattr(e.__cause__, "sqlstate", None) != DUPLICATE_DATABASE:
                # Django's rule: any other error cancels the test run.
                self.log("Got an error creating the test database: %s" % e)
                sys.exit(2)
            if not keepdb:
                raise
