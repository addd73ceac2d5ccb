"""pgatomic's exceptions: the PEP 249 tree, SQLSTATE subclasses, and the
wording of every condition the core or the binding reports.

The C binding names a condition ("EBROKEN", "ECLOSED", ...) and hands over
the facts; ``_core_error`` picks the class and the words here, so Django's
verbatim messages live in Python.  This module imports nothing native.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
    "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
    "NotSupportedError", "TransactionManagementError", "CommitOutcomeUnknown",
    "SynchronousOnlyOperation", "PoolTimeout",
    "UniqueViolation", "ForeignKeyViolation", "NotNullViolation",
    "CheckViolation", "ExclusionViolation", "SerializationFailure",
    "DeadlockDetected", "QueryCanceled", "Diagnostic", "lookup",
]


class Diagnostic:
    """The fields of a server error report (psycopg's ``Diagnostic``)."""

    __module__ = "pgatomic"
    __slots__ = (
        "message_primary", "detail", "hint", "schema_name", "table_name",
        "column_name", "constraint_name", "severity", "statement_position",
    )

    def __init__(self, fields: Optional[Dict[str, Optional[str]]] = None) -> None:
        fields = fields or {}
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self.__slots__
            if getattr(self, n) is not None)
        return f"Diagnostic({shown})"


class Warning(Exception):  # noqa: A001 - PEP 249 name
    __module__ = "pgatomic"


class Error(Exception):
    """Base class of every pgatomic error (PEP 249)."""

    __module__ = "pgatomic"

    def __init__(self, *args: Any, sqlstate: Optional[str] = None,
                 diag: Optional[Diagnostic] = None) -> None:
        super().__init__(*args)
        self.sqlstate: Optional[str] = sqlstate or type(self).__dict__.get("_sqlstate")
        self.diag: Diagnostic = diag if diag is not None else Diagnostic()

    @property
    def pgcode(self) -> Optional[str]:
        """psycopg2's name for ``sqlstate``."""
        return self.sqlstate


class InterfaceError(Error):
    __module__ = "pgatomic"


class DatabaseError(Error):
    __module__ = "pgatomic"


class DataError(DatabaseError):
    __module__ = "pgatomic"


class OperationalError(DatabaseError):
    __module__ = "pgatomic"


class IntegrityError(DatabaseError):
    __module__ = "pgatomic"


class InternalError(DatabaseError):
    __module__ = "pgatomic"


class ProgrammingError(DatabaseError):
    __module__ = "pgatomic"


class NotSupportedError(DatabaseError):
    __module__ = "pgatomic"


class TransactionManagementError(ProgrammingError):
    """Django's name: the transaction API was used wrongly."""

    __module__ = "pgatomic"


class SynchronousOnlyOperation(TransactionManagementError):
    """Django's name: the synchronous API was used from a running event loop,
    where every task of the thread would share one connection and so one
    transaction."""

    __module__ = "pgatomic"


class CommitOutcomeUnknown(OperationalError):
    """The connection was lost while COMMIT was in flight: the transaction
    may or may not have been committed."""

    __module__ = "pgatomic"


class PoolTimeout(OperationalError):
    """No connection of an AsyncPool became free within its acquire
    timeout (psycopg_pool's name)."""

    __module__ = "pgatomic"


class UniqueViolation(IntegrityError):
    __module__ = "pgatomic"
    _sqlstate = "23505"


class ForeignKeyViolation(IntegrityError):
    __module__ = "pgatomic"
    _sqlstate = "23503"


class NotNullViolation(IntegrityError):
    __module__ = "pgatomic"
    _sqlstate = "23502"


class CheckViolation(IntegrityError):
    __module__ = "pgatomic"
    _sqlstate = "23514"


class ExclusionViolation(IntegrityError):
    __module__ = "pgatomic"
    _sqlstate = "23P01"


class SerializationFailure(OperationalError):
    __module__ = "pgatomic"
    _sqlstate = "40001"


class DeadlockDetected(OperationalError):
    __module__ = "pgatomic"
    _sqlstate = "40P01"


class QueryCanceled(OperationalError):
    __module__ = "pgatomic"
    _sqlstate = "57014"


# The core classifies a SQLSTATE into a kind (pga_kind_name: "operational",
# "unique_violation"); a kind maps to a class here.  A test checks that
# every kind of the core is listed.
_KINDS: Dict[str, Type[Error]] = {
    "database": DatabaseError,
    "data": DataError,
    "operational": OperationalError,
    "integrity": IntegrityError,
    "internal": InternalError,
    "programming": ProgrammingError,
    "not_supported": NotSupportedError,
    "unique_violation": UniqueViolation,
    "foreign_key_violation": ForeignKeyViolation,
    "not_null_violation": NotNullViolation,
    "check_violation": CheckViolation,
    "exclusion_violation": ExclusionViolation,
    "serialization_failure": SerializationFailure,
    "deadlock_detected": DeadlockDetected,
    "query_canceled": QueryCanceled,
}

# One class per SQLSTATE of the core's table (every code PostgreSQL
# defines), made on first use from that table: the name is the CamelCase of
# PostgreSQL's condition name and the base is the PEP 249 class of the
# code's kind, as in psycopg's errors module (LockNotAvailable is an
# OperationalError).  psycopg's two spelling rules for clashes apply: a
# name already taken by an earlier code gets "Ext"
# (ModifyingSqlDataNotPermittedExt), a name of this module's base classes
# gets "_" (InternalError_).
_by_code: Dict[str, Type[Error]] = {}
_by_name: Dict[str, Type[Error]] = {}


def _sqlstate_classes() -> Dict[str, Type[Error]]:
    if _by_code:
        return _by_code
    from . import _pgatomic   # late: this module imports nothing native at load
    made: Dict[str, Type[Error]] = {}
    names: Dict[str, Type[Error]] = {}
    fixed = {cls._sqlstate: cls for cls in _KINDS.values()    # type: ignore[attr-defined]
             if "_sqlstate" in cls.__dict__}
    for code, condition, base_kind in _pgatomic.sqlstate_table():
        name = "".join(word.capitalize() for word in condition.split("_"))
        if name in names:
            name += "Ext"
        elif code not in fixed and name in globals():
            name += "_"
        cls = fixed.get(code)
        if cls is None:
            cls = type(name, (_KINDS.get(base_kind, DatabaseError),), {
                "__module__": __name__, "__qualname__": name, "_sqlstate": code,
                "__doc__": f"SQLSTATE {code} ({condition})."})
        made[code] = cls
        names[name] = cls
    _by_name.update(names)
    _by_code.update(made)
    return _by_code



def __getattr__(name: str) -> Any:
    """The class of every SQLSTATE by its psycopg name
    (``pgatomic.errors.LockNotAvailable``)."""
    _sqlstate_classes()
    try:
        return _by_name[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> Any:
    _sqlstate_classes()
    return sorted(set(globals()) | set(_by_name))

BROKEN_MESSAGE = (
    "An error occurred in the current transaction. You can't execute queries "
    "until the end of the 'atomic' block."
)
FORBIDDEN_IN_ATOMIC = "This is forbidden when an 'atomic' block is active."
ROLLBACK_FLAG_OUTSIDE = "The rollback flag doesn't work outside of an 'atomic' block."
DURABLE_NESTED = "A durable atomic block cannot be nested within another atomic block."
DURABLE_IN_SQL_TRANSACTION = (
    "A durable atomic block cannot be entered in a transaction begun with BEGIN "
    "as SQL: it could not commit when it exits.")
ON_COMMIT_MANUAL = "on_commit() cannot be used in manual transaction management"
ON_COMMIT_NOT_CALLABLE = "on_commit()'s callback must be a callable."

# Condition name -> (class, message template).  Templates are formatted
# with the facts the binding passes (message, placeholders, params, type...).
# A test checks that every name the core defines is worded here.
_CONDITIONS: Dict[str, Tuple[Type[BaseException], str]] = {
    "ESERVER": (DatabaseError, "{message}"),
    "ECONN": (OperationalError, "{message}"),
    "ECOMMITUNKNOWN": (
        CommitOutcomeUnknown,
        "the connection was lost while COMMIT was in flight; the transaction "
        "may or may not have been committed ({message})"),
    "EBROKEN": (TransactionManagementError, BROKEN_MESSAGE),
    "EMISUSE": (InterfaceError, "{message}"),
    "ENOMEM": (MemoryError, "out of memory"),
    "EDURABLE": (RuntimeError, DURABLE_NESTED),
    "EINATOMIC": (TransactionManagementError, FORBIDDEN_IN_ATOMIC),
    "ENOATOMIC": (TransactionManagementError, ROLLBACK_FLAG_OUTSIDE),
    "EOPTIONS": (
        TransactionManagementError,
        "isolation, read_only and deferrable are only allowed on the outermost "
        "'atomic' block."),
    "ETXNENDED": (
        TransactionManagementError,
        "COMMIT or ROLLBACK was sent as SQL inside an 'atomic' block; the "
        "transaction has ended and the block will be rolled back."),
    "EMANUAL": (TransactionManagementError, ON_COMMIT_MANUAL),
    "EPARAMCOUNT": (
        ProgrammingError,
        "the query has {placeholders} placeholder{placeholders_s} but "
        "{params} parameter{params_s} {params_verb} passed"),
    "EPARAM": (DataError, "{message}"),
    "ECLOSED": (InterfaceError, "the connection{alias_q} is closed"),
    "EBUSY": (InterfaceError, "another operation is in progress on {this_connection}"),
    "EROLLEDBACK": (
        InternalError,
        "the server answered COMMIT with ROLLBACK: the transaction was rolled back"),
    "EINTRANS": (
        TransactionManagementError,
        "a transaction is open: call commit() or rollback() first"),
    "ESAVEPOINT": (ProgrammingError,
                   "no such savepoint in this transaction: {savepoint_q}"),
    "EDECODE": (DataError, "a result value cannot be decoded: {text!r}"),
    "ENOTSUPPORTED": (NotSupportedError, "{message}"),
    # Conditions of the binding itself.
    "ETHREAD": (
        ProgrammingError,
        "Connection objects created in a thread can only be used in that same "
        "thread. The object was created in thread id {owner_thread} and this is "
        "thread id {current_thread}."),
    "EADAPT": (ProgrammingError, "cannot adapt type '{type}'"),
    "ESQLNUL": (DataError, "the query contains a NUL (0x00) byte"),
    "ETEXTENCODE": (DataError, "a str parameter cannot be sent as UTF-8: {message}"),
    # The DB-API cursor's (pgatomic.dbapi), worded as psycopg words them.
    "ECURSORCLOSED": (InterfaceError, "the cursor is closed"),
    "ENORESULT": (ProgrammingError, "the last operation didn't produce a result"),
    "EPLACEHOLDER": (ProgrammingError, "{message}"),
    "EPARAMMISSING": (ProgrammingError, "query parameter missing: {name}"),
}


class _Facts(Dict[str, Any]):
    """Missing facts format as empty text instead of failing the error."""

    def __missing__(self, key: str) -> str:
        return ""


def lookup(sqlstate: str) -> Type[Error]:
    """The class for a SQLSTATE: its own class when the core's table has the
    code, else the class of its kind as the core classifies it (the base of
    its two- or one-character class), else DatabaseError (psycopg's order)."""
    cls = _sqlstate_classes().get(sqlstate)
    if cls is not None:
        return cls
    from . import _pgatomic   # late: this module imports nothing native at load
    return _KINDS.get(_pgatomic.sqlstate_kind_name(sqlstate), DatabaseError)


def _core_error(condition: str, info: Dict[str, Any]) -> BaseException:
    """Build the exception for a condition (called by the C binding)."""
    facts = _Facts(info)
    if "placeholders" in facts:
        facts["placeholders_s"] = "" if facts["placeholders"] == 1 else "s"
        facts["params_s"] = "" if facts["params"] == 1 else "s"
        facts["params_verb"] = "was" if facts["params"] == 1 else "were"
    alias = info.get("alias")
    facts["alias_q"] = f" {alias!r}" if alias else ""
    facts["this_connection"] = f"the connection {alias!r}" if alias else "this connection"
    facts["savepoint_q"] = repr(info["savepoint"]) if "savepoint" in info else facts["message"]
    cls: Type[BaseException]
    if condition == "ESERVER" and info.get("sqlstate"):
        cls = lookup(info["sqlstate"])
        template = "{message}"
    else:
        cls, template = _CONDITIONS.get(condition, (DatabaseError, "{core_message}"))
        if condition == "EDURABLE" and facts["message"] != facts["core_message"]:
            # Not nested in a block but in a transaction begun as SQL.
            template = DURABLE_IN_SQL_TRANSACTION
    message = template.format_map(facts).strip()
    if not message:
        message = info.get("core_message") or condition
    diag = info.get("diag") or {}
    if condition in ("ESERVER", "ECONN") and info.get("sqlstate"):
        # The server's own words, as psycopg shows them (libpq's layout).
        if diag.get("detail"):
            message += f"\nDETAIL:  {diag['detail']}"
        if diag.get("hint"):
            message += f"\nHINT:  {diag['hint']}"
    if issubclass(cls, Error):
        diag = info.get("diag")
        # Whether the server's facts are this error's own is the core's
        # decision (pga_conn_error_facts); a cause's go on the cause.
        sqlstate = info.get("sqlstate") if info.get("facts") == "own" else None
        exc = cls(message, sqlstate=sqlstate,
                  diag=Diagnostic(diag) if diag and sqlstate else None)
        # The core's result code, for the retry decision (pga_retryable).
        exc._pga_code = info.get("code")
        return exc
    return cls(message)
