"""``Json``: marks any JSON value (a list, a str, a number...) to travel as
jsonb; a dict does so without it."""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["Json"]


class Json:
    """Wrap ``obj`` to send it as jsonb; ``dumps`` replaces ``json.dumps``."""

    __module__ = "pgatomic"
    __slots__ = ("obj", "dumps")

    def __init__(self, obj: Any, dumps: Optional[Callable[[Any], str]] = None) -> None:
        self.obj = obj
        self.dumps = dumps

    def __repr__(self) -> str:
        return f"Json({self.obj!r})"
