"""What the backend supports: Django's PostgreSQL features, with the
parameters always bound on the server, and the tests of Django's own suite
that check psycopg itself rather than Django's behaviour."""

from __future__ import annotations

from typing import Dict, Set, Tuple, Type

import django
from django.db import DataError
from django.db.backends.postgresql import features as postgresql_features
from django.utils.functional import cached_property

__all__ = ["DatabaseFeatures"]

_PG_TESTS = "backends.postgresql.tests.Tests."
_CURSOR_TESTS = "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres."

# Django's suite skips these on this backend, for the reason given.  Each
# is a psycopg facility the backend does not offer; scripts/orm/django-suite.sh
# still lists them beside psycopg's results.
_SKIPS: Dict[str, Set[str]] = {
    "QuerySet.iterator() reads a server-side cursor here too, but these tests count "
    "every row of pg_cursors, and the counting SELECT's own unnamed portal is one: the "
    "core sends a single statement over the extended protocol, which pg_cursors lists "
    "(psycopg sends a statement without parameters over the simple protocol, which it "
    "does not). Each counts exactly one more cursor than expected.": {
        _CURSOR_TESTS + name for name in (
            "test_closed_server_side_cursor", "test_server_side_cursor",
            "test_server_side_cursor_many_cursors", "test_server_side_cursors_setting",
            "test_values", "test_values_list", "test_values_list_fields_not_equal_to_names",
            "test_values_list_flat")},
    "OPTIONS['pool'] is psycopg_pool's; pgatomic.django refuses it (use CONN_MAX_AGE "
    "or an external pooler).": {
        _PG_TESTS + name for name in (
            "test_connect_pool", "test_connect_pool_set_to_true",
            "test_connect_pool_with_timezone", "test_pooling_health_checks",
            "test_pooling_not_support_persistent_connections")},
    "These check psycopg's own cursor classes (OPTIONS['cursor_factory'], the "
    "ServerBindingCursor of OPTIONS['server_side_binding']).": {
        _PG_TESTS + "test_connect_custom_cursor_factory",
        _PG_TESTS + "test_connect_server_side_binding"},
    "COPY through psycopg's cursor.copy() is not available.": {
        _PG_TESTS + "test_copy_cursors"},
    "It expects psycopg's class psycopg.errors.InvalidParameterValue; pgatomic.django "
    "raises pgatomic.errors.InvalidParameterValue, same SQLSTATE and message.": {
        _PG_TESTS + "test_connect_role"},
    "It compares the driver connection's isolation_level with psycopg's IsolationLevel "
    "enum; pgatomic.dbapi reports the level in SQL's words ('SERIALIZABLE'). The level "
    "reaches the server (tests/python/test_django_seeds.py checks it there).": {
        _PG_TESTS + "test_connect_isolation_level"},
}
if django.VERSION >= (6, 0):
    _SKIPS["OPTIONS['pool'] is psycopg_pool's; pgatomic.django refuses it (use CONN_MAX_AGE "
           "or an external pooler)."] |= {_PG_TESTS + "test_pool_check_can_be_overridden",
                                          _PG_TESTS + "test_pool_options_not_mutated"}

# Known to fail because parameters are bound on the server, as they do on
# Django's psycopg backend with OPTIONS['server_side_binding'] (Django lists
# the first one itself): the ORM writes one value as two parameters ($1 in
# the select list, $2 in ORDER BY or GROUP BY), which PostgreSQL cannot see
# as the same expression (Django tickets #20516 and #34255).
_EXPECTED_FAILURES = {
    _CURSOR_TESTS + "test_server_side_binding",
}


class DatabaseFeatures(postgresql_features.DatabaseFeatures):
    # Parameters never enter the SQL text: Django's server_side_binding
    # behaviour (and its known test differences) always applies.
    uses_server_side_binding = True

    @cached_property
    def prohibits_null_characters_in_text_exception(self) -> Tuple[Type[Exception], str]:
        return DataError, "PostgreSQL text cannot contain NUL (0x00) bytes"

    @cached_property
    def django_test_skips(self) -> Dict[str, Set[str]]:
        skips = dict(super().django_test_skips)
        skips.update(_SKIPS)
        return skips

    @cached_property
    def django_test_expected_failures(self) -> Set[str]:
        return set(super().django_test_expected_failures) | _EXPECTED_FAILURES
