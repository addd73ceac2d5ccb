"""Two-phase commit with the DB-API's names (PEP 249's optional TPC
extension, as psycopg has it): ``xid()``, ``tpc_begin()``, ``tpc_prepare()``,
``tpc_commit()``, ``tpc_rollback()``, ``tpc_recover()``.  The statements, the
hooks that wait for COMMIT PREPARED and the refusals are the core's
(pgatomic.h "Two-phase commit"); this mixin keeps the DB-API's state: which
transaction is the two-phase one, and whether it is prepared yet."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Any, Iterator, List, Optional, Union

from .errors import ProgrammingError

__all__ = ["Xid", "TwoPhaseCommit"]

# format_id, then gtrid and bqual in base64: the form pgjdbc and psycopg
# use, so a transaction prepared by either can be recovered here.
_XA_GID = re.compile(r"^(\d+)_([A-Za-z0-9+/=]*)_([A-Za-z0-9+/=]*)$")


@dataclasses.dataclass(frozen=True)
class Xid:
    """A transaction id: unpacks as ``(format_id, gtrid, bqual)``; those read
    back by ``tpc_recover()`` also carry ``prepared``, ``owner`` and
    ``database``.  A plain id (no XA parts) has ``format_id`` and ``bqual``
    None and the whole id as ``gtrid``."""

    format_id: Optional[int]
    gtrid: str
    bqual: Optional[str]
    # What the server tells about a prepared one; two Xids are equal when
    # they name the same transaction.
    prepared: Any = dataclasses.field(default=None, compare=False)
    owner: Optional[str] = dataclasses.field(default=None, compare=False)
    database: Optional[str] = dataclasses.field(default=None, compare=False)

    __module__ = "pgatomic"

    def __len__(self) -> int:
        return 3

    def __iter__(self) -> Iterator[Any]:
        return iter((self.format_id, self.gtrid, self.bqual))

    def __getitem__(self, index: Any) -> Any:
        return (self.format_id, self.gtrid, self.bqual)[index]

    def __str__(self) -> str:
        """The gid the server knows it by."""
        if self.format_id is None or self.bqual is None:
            return self.gtrid
        parts = (base64.b64encode(p.encode()).decode() for p in (self.gtrid, self.bqual))
        return f"{self.format_id}_{'_'.join(parts)}"

    @classmethod
    def from_parts(cls, format_id: Optional[int], gtrid: str, bqual: Optional[str]) -> "Xid":
        if not isinstance(gtrid, str):
            raise TypeError("gtrid must be a str")
        if format_id is None:
            if bqual is not None:
                raise TypeError("if format_id is None, bqual must be None too")
            return cls(None, gtrid, None)
        if bqual is None:
            raise TypeError("if format_id is specified, bqual must be too")
        if not isinstance(format_id, int) or not 0 <= format_id < 2**31:
            raise ValueError("format_id must be a non-negative 32-bit integer")
        if len(gtrid) > 64 or len(bqual) > 64:
            raise ValueError("gtrid and bqual must be at most 64 characters")
        return cls(format_id, gtrid, bqual)

    @classmethod
    def from_string(cls, gid: str) -> "Xid":
        """The Xid a gid stands for: its XA parts when it has that form,
        else a plain id."""
        m = _XA_GID.match(gid)
        if m:
            try:
                gtrid, bqual = (base64.b64decode(p, validate=True).decode() for p in m.group(2, 3))
                return cls.from_parts(int(m.group(1)), gtrid, bqual)
            except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
                pass
        return cls(None, gid, None)


def _xid_of(xid: Union[Xid, str]) -> Xid:
    if isinstance(xid, Xid):
        return xid
    if isinstance(xid, str):
        return Xid.from_string(xid)
    raise TypeError(f"a transaction id must be an Xid or a str, not {type(xid).__name__}")


class TwoPhaseCommit:
    """The TPC methods, for a class over the binding's Connection."""

    _tpc_xid: Optional[Xid] = None
    _tpc_prepared = False
    _tpc_autocommit = False

    def xid(self, format_id: Optional[int], gtrid: str, bqual: Optional[str]) -> Xid:
        """An Xid for the ``tpc_*()`` methods."""
        return Xid.from_parts(format_id, gtrid, bqual)

    def tpc_begin(self, xid: Union[Xid, str]) -> None:
        """Start the two-phase transaction ``xid``.  The connection goes into
        manual mode for it (and back when it ends); BEGIN rides with the
        first statement, as usual."""
        xid = _xid_of(xid)
        if self._tpc_xid is not None:
            raise ProgrammingError("a two-phase transaction is already in progress")
        self._check_no_transaction("tpc_begin()")
        was_autocommit = self.get_autocommit()
        if was_autocommit:
            self.set_autocommit(False)
        self._tpc_xid, self._tpc_prepared, self._tpc_autocommit = xid, False, was_autocommit

    def tpc_prepare(self) -> None:
        """PREPARE TRANSACTION: the first phase.  Hooks registered in the
        transaction wait for ``tpc_commit()`` on this connection."""
        if self._tpc_xid is None:
            raise ProgrammingError("tpc_prepare() must be called inside a two-phase transaction")
        if self._tpc_prepared:
            raise ProgrammingError("tpc_prepare() cannot be used during a prepared two-phase "
                                   "transaction")
        try:
            self._prepare(str(self._tpc_xid))
        except BaseException:
            if self.transaction_status == "I" and not self.in_atomic_block:
                # The server rolled it back (a gid in use, a failed
                # transaction): nothing is left to finish.
                self._tpc_end()
            raise
        self._tpc_prepared = True

    def tpc_commit(self, xid: Union[Xid, str, None] = None) -> None:
        """Commit: the transaction begun here (in one phase if it was not
        prepared), or with ``xid`` a prepared one from any connection; then
        run its on_commit hooks if they wait here."""
        self._tpc_finish(xid, commit=True)

    def tpc_rollback(self, xid: Union[Xid, str, None] = None) -> None:
        """Roll back: the transaction begun here, or with ``xid`` a prepared
        one from any connection (its hooks are dropped)."""
        self._tpc_finish(xid, commit=False)

    def tpc_recover(self) -> List[Xid]:
        """The prepared transactions of this database, oldest first, with
        ``prepared``, ``owner`` and ``database`` set.  Opens no transaction."""
        return [dataclasses.replace(Xid.from_string(gid), prepared=prepared, owner=owner,
                                    database=database)
                for gid, prepared, owner, database in self._list_prepared().fetchall()]

    # -- helpers -----------------------------------------------------------------
    def _check_no_transaction(self, what: str) -> None:
        if self.in_atomic_block:
            raise ProgrammingError(f"{what} cannot be used inside an 'atomic' block")
        if self.transaction_status != "I":
            raise ProgrammingError(f"{what} needs no transaction open: the connection is in "
                                   f"status {self.transaction_status}")

    def _tpc_end(self) -> None:
        restore = self._tpc_autocommit
        self._tpc_xid, self._tpc_prepared, self._tpc_autocommit = None, False, False
        if restore:
            self.set_autocommit(True)

    def _tpc_finish(self, xid: Union[Xid, str, None], commit: bool) -> None:
        from ._connections import _run_hooks
        name = "tpc_commit()" if commit else "tpc_rollback()"
        if xid is None:
            if self._tpc_xid is None:
                raise ProgrammingError(f"{name} without xid must be called inside a two-phase "
                                       "transaction")
            gid, prepared = str(self._tpc_xid), self._tpc_prepared
        else:
            if self._tpc_xid is not None:
                raise ProgrammingError(f"{name} with xid must be called outside a two-phase "
                                       "transaction")
            gid, prepared = str(_xid_of(xid)), True
        try:
            if not prepared:
                (self._commit if commit else self._rollback)()
            elif commit:
                self._commit_prepared(gid)
            else:
                self._rollback_prepared(gid)
        finally:
            hooks = self._take_hooks()
            if xid is None:
                self._tpc_end()
        if commit:
            _run_hooks(hooks)
