"""Schema changes: Django's PostgreSQL schema editor, with values inlined
into DDL by pgatomic's literals instead of psycopg's."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import schema as postgresql_schema

from . import literals

__all__ = ["DatabaseSchemaEditor"]


class DatabaseSchemaEditor(postgresql_schema.DatabaseSchemaEditor):
    def quote_value(self, value: Any) -> str:
        return literals.quote(value)
