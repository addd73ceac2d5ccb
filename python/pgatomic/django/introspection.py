"""Introspection: Django's PostgreSQL queries over pgatomic's cursor."""

from __future__ import annotations

from django.db.backends.postgresql import introspection as postgresql_introspection

__all__ = ["DatabaseIntrospection"]


class DatabaseIntrospection(postgresql_introspection.DatabaseIntrospection):
    pass
