"""Errors as Django sees them.

Django re-raises a driver's error as its own class of the same PEP 249 name
(``django.db.OperationalError`` from ``pgatomic.errors.OperationalError``)
with the driver's error as ``__cause__``.  An unknown COMMIT outcome must
stay recognisable through that, so it becomes ``CommitOutcomeUnknown``,
which is both Django's OperationalError (Django's commit-failure path
handles it) and pgatomic's CommitOutcomeUnknown (code that catches
pgatomic's class catches it here too).
"""

from __future__ import annotations

from typing import Any

from django.db import utils as django_utils

from .. import errors

__all__ = ["CommitOutcomeUnknown", "DatabaseErrorWrapper"]


class CommitOutcomeUnknown(django_utils.OperationalError, errors.CommitOutcomeUnknown):
    """The connection was lost while COMMIT was in flight: the transaction
    may or may not have been committed.  Never retried by pgatomic."""

    __module__ = "pgatomic.django"

    def __init__(self, *args: Any, sqlstate: Any = None, diag: Any = None) -> None:
        errors.CommitOutcomeUnknown.__init__(self, *args, sqlstate=sqlstate, diag=diag)


class DatabaseErrorWrapper(django_utils.DatabaseErrorWrapper):
    """Django's wrapper, plus CommitOutcomeUnknown kept as its own class."""

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is not None and issubclass(exc_type, errors.CommitOutcomeUnknown):
            self.wrapper.errors_occurred = True
            wrapped = CommitOutcomeUnknown(*exc_value.args, sqlstate=exc_value.sqlstate,
                                           diag=exc_value.diag)
            raise wrapped.with_traceback(traceback) from exc_value
        super().__exit__(exc_type, exc_value, traceback)
