"""``pgatomic.django``: a Django database backend on pgatomic's engine.

    DATABASES = {"default": {"ENGINE": "pgatomic.django", "NAME": "app", ...}}

Django's own ``transaction.atomic``, savepoints and ``on_commit`` then run
on the engine: BEGIN, SAVEPOINT and RELEASE travel with the statements they
surround, and a COMMIT is never reported as a success it was not.  The
backend itself is ``pgatomic.django.base.DatabaseWrapper`` (see its
docstring); this package only exposes the error class applications catch.
"""

from .errors import CommitOutcomeUnknown

__all__ = ["CommitOutcomeUnknown"]
