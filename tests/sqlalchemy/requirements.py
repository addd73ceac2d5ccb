"""What PostgreSQL can do, for SQLAlchemy's compliance suite.

SQLAlchemy's SuiteRequirements starts from "not supported" for most
features (savepoints, two-phase commit, JSON, arrays, CTEs, window
functions...), so a dialect that keeps the defaults skips the tests that
would exercise its driver most.  This class states PostgreSQL 15's facts.
The same class judges every driver the suite runs against (pgatomic and,
for the baseline, psycopg): no entry names a driver; the few that depend
on the driver ask the dialect (server-side cursors, inherited) or the
server (two-phase commit needs max_prepared_transactions)."""

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

supported = property(lambda self: exclusions.open())
unsupported = property(lambda self: exclusions.closed())


def _prepared_transactions_enabled(config):
    with config.db.connect() as conn:
        return int(conn.exec_driver_sql("SHOW max_prepared_transactions").scalar()) > 0


class Requirements(SuiteRequirements):
    # DDL
    table_ddl_if_exists = supported
    index_ddl_if_exists = supported
    schema_create_delete = supported
    deferrable_fks = supported
    server_defaults = supported
    expression_server_defaults = supported
    computed_columns = supported
    computed_columns_stored = supported
    computed_columns_default_persisted = supported    # PostgreSQL's are STORED
    computed_columns_virtual = unsupported            # not before PostgreSQL 18
    computed_columns_reflect_persisted = supported
    identity_columns = supported
    identity_columns_standard = supported
    unicode_ddl = supported
    views = supported
    temporary_views = supported
    materialized_views = supported
    non_updating_cascade = unsupported                # ON UPDATE CASCADE works

    # reflection
    reflects_pk_names = supported
    reflect_tables_no_columns = supported
    cross_schema_fk_reflection = supported
    implicit_default_schema = supported
    default_schema_name_switch = supported
    comment_reflection = supported
    comment_reflection_full_unicode = supported
    temp_table_comment_reflection = supported
    constraint_comment_reflection = supported
    column_collation_reflection = supported
    foreign_key_constraint_option_reflection_ondelete = supported
    foreign_key_constraint_option_reflection_onupdate = supported
    fk_constraint_option_reflection_ondelete_restrict = supported
    fk_constraint_option_reflection_ondelete_noaction = supported
    fk_constraint_option_reflection_onupdate_restrict = supported
    temp_table_names = supported
    has_temp_table = supported
    index_reflects_included_columns = supported
    indexes_with_expressions = supported
    reflect_indexes_with_expressions = supported
    unique_constraints_reflect_as_index = supported   # each is backed by an index
    check_constraint_reflection = supported
    inline_check_constraint_reflection = supported

    # SQL
    table_value_constructor = supported
    boolean_col_expressions = supported
    nullsordering = supported
    intersect = supported
    except_ = supported
    window_functions = supported
    ctes = supported
    ctes_with_update_delete = supported
    ctes_with_values = supported
    ctes_on_dml = supported
    tuple_in = supported
    update_from = supported
    delete_from = supported
    mod_operator_as_percent_sign = supported
    percent_schema_names = supported
    order_by_label_with_expression = supported
    supports_distinct_on = supported
    regexp_match = supported
    regexp_replace = supported
    fetch_first = supported
    fetch_ties = supported
    fetch_no_order_by = supported
    fetch_offset_with_options = supported
    fetch_expression = supported
    fetch_percent = unsupported                       # no FETCH ... PERCENT
    supports_bitwise_or = supported
    supports_bitwise_and = supported
    supports_bitwise_not = supported
    supports_bitwise_xor = supported
    supports_bitwise_shift = supported

    # types
    uuid_data_type = supported
    array_type = supported
    json_type = supported
    datetime_interval = supported
    datetime_literals = supported
    datetime_timezone = supported
    time_timezone = supported
    timestamp_microseconds = supported
    datetime_historic = supported
    date_historic = supported
    datetime_timezone_historic = supported
    precision_numerics_enotation_small = supported
    precision_numerics_many_significant_digits = supported
    infinity_floats = supported

    # transactions
    autocommit = supported
    skip_autocommit_rollback = supported
    savepoints = supported

    @property
    def two_phase_transactions(self):
        return exclusions.only_if(_prepared_transactions_enabled,
                                  "the server's max_prepared_transactions is 0")
