"""Django's PostgreSQL operations, minus psycopg: values go to the driver
as plain Python objects, and SQL that must hold its values inline is
composed with pgatomic's own literals."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from django.db.backends.postgresql import operations as postgresql_operations

from .._json import Json
from . import literals

__all__ = ["DatabaseOperations"]


class DatabaseOperations(postgresql_operations.DatabaseOperations):

    def compose_sql(self, sql: str, params: Optional[Sequence[Any]]) -> str:
        return literals.compose(sql, params)

    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        # The SQL and the parameters travel apart, so this is a rendering of
        # them (as for Django's server_side_binding option), not a copy of
        # what the server received.
        try:
            return self.compose_sql(sql, params)
        except Exception:
            return super(postgresql_operations.DatabaseOperations, self).last_executed_query(
                cursor, sql, params)

    def adapt_integerfield_value(self, value: Any, internal_type: str) -> Any:
        # The engine types an int parameter by its value (int2/int4/int8),
        # so Django needs no psycopg Int2/Int4/Int8 wrappers.
        return value

    def adapt_ipaddressfield_value(self, value: Any) -> Optional[str]:
        # Text takes the column's type (inet) on the server.
        return str(value) if value else None

    def adapt_json_value(self, value: Any, encoder: Any) -> Json:
        return Json(value, dumps=postgresql_operations.get_json_dumps(encoder))
