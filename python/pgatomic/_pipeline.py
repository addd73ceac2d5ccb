"""Results of a pipelined transaction (``atomic(pipeline=True)``).

In a pipelined transaction ``Connection.execute()`` does not wait: its
statement joins the transaction's flight, which travels (one round trip,
BEGIN, savepoints and COMMIT included) when a result is first touched or
when the block exits.  ``execute()`` returns a :class:`PipelinedResult`
that reads like a ``Result`` and sends the flight the first time anything
of it is used.  The core decides what is sent when (docs/core.md
"Pipelined transactions"); the binding settles every pending result as
soon as its flight has travelled.
"""
from typing import Any, Iterator, Optional

from . import _pgatomic
from .errors import InterfaceError

__all__ = ["PipelinedResult"]


class PipelinedResult:
    """The result of a statement queued in a pipelined transaction.

    Touching it (any attribute of ``Result``, iteration, ``len()``) sends the
    flight if it has not travelled yet.  That read raises the first error of
    the flight, whichever statement it was (psycopg's pipeline rule); after
    that each result raises only its own error: the failing statement's,
    or, for a statement the failure skipped, the broken block's
    ``TransactionManagementError`` with the failure as its cause."""

    __module__ = "pgatomic"
    __slots__ = ("_conn", "_result", "_error")

    def __init__(self, conn: Any) -> None:
        self._conn: Any = conn
        self._result: Optional[_pgatomic.Result] = None
        self._error: Optional[BaseException] = None

    def _get(self) -> "_pgatomic.Result":
        if self._result is None and self._error is None:
            # Settles this result (and every other of the flight) or raises
            # the flight's first failure.
            self._conn._pipeline_sync()
        if self._error is not None:
            raise self._error
        if self._result is None:
            # Not expected: every call that sends a flight settles it.
            raise InterfaceError("the pipelined statement's result was lost")
        return self._result

    @property
    def ready(self) -> bool:
        """True once the statement's outcome has arrived (nothing is sent)."""
        return self._result is not None or self._error is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        if not self.ready:
            return "<pgatomic.PipelinedResult (not sent yet)>"
        if self._error is not None:
            return f"<pgatomic.PipelinedResult error={self._error!r}>"
        return f"<pgatomic.PipelinedResult {self._result!r}>"
