"""pgatomic: Django's ``transaction.atomic`` for PostgreSQL, on one C core.

This module only re-exports; see ``pgatomic.transaction`` (blocks, hooks,
savepoints), ``pgatomic._connections`` (connections, aliases) and
``pgatomic.errors``.
"""

from . import errors
from ._aio import (
    AsyncConnection,
    AsyncPool,
    AsyncStream,
    aconnection,
    aconnections,
    connect_async,
)
from ._connections import (
    Connection,
    ConnectionDoesNotExist,
    Result,
    Stream,
    configure,
    connect,
    connection,
    connections,
)
from ._json import Json
from ._pipeline import PipelinedResult
from ._tpc import Xid
from ._values import InfiniteDate, InfiniteDatetime, Interval
from .errors import (
    CheckViolation,
    CommitOutcomeUnknown,
    DatabaseError,
    DataError,
    DeadlockDetected,
    Diagnostic,
    Error,
    ExclusionViolation,
    ForeignKeyViolation,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotNullViolation,
    NotSupportedError,
    OperationalError,
    PoolTimeout,
    ProgrammingError,
    QueryCanceled,
    SerializationFailure,
    SynchronousOnlyOperation,
    TransactionManagementError,
    UniqueViolation,
    Warning,
)
from . import transaction
from .transaction import (
    Atomic,
    Isolation,
    arun_in_transaction,
    atomic,
    clean_savepoints,
    commit,
    get_autocommit,
    get_rollback,
    mark_for_rollback_on_error,
    on_commit,
    rollback,
    run_in_transaction,
    savepoint,
    savepoint_commit,
    savepoint_rollback,
    set_autocommit,
    set_rollback,
)

__all__ = [
    "AsyncConnection", "AsyncPool", "AsyncStream", "PoolTimeout", "aconnection", "aconnections",
    "arun_in_transaction", "connect_async",
    "Atomic", "CheckViolation", "CommitOutcomeUnknown", "Connection",
    "ConnectionDoesNotExist", "DataError", "DatabaseError", "DeadlockDetected",
    "Diagnostic", "Error", "ExclusionViolation", "ForeignKeyViolation",
    "InfiniteDate", "InfiniteDatetime", "IntegrityError", "InterfaceError",
    "InternalError", "Interval", "Isolation", "Json", "PipelinedResult",
    "NotNullViolation", "NotSupportedError", "OperationalError",
    "ProgrammingError", "QueryCanceled", "Result", "SerializationFailure", "Stream",
    "SynchronousOnlyOperation",
    "TransactionManagementError", "UniqueViolation", "Warning", "Xid", "atomic",
    "clean_savepoints", "commit", "configure", "connect", "connection",
    "connections", "errors", "get_autocommit", "get_rollback",
    "mark_for_rollback_on_error", "on_commit", "rollback", "run_in_transaction", "savepoint",
    "savepoint_commit", "savepoint_rollback", "set_autocommit", "set_rollback",
    "transaction",
]
