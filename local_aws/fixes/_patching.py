"""A tiny, reversible monkeypatching helper shared by the fixes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass
class Fix:
    """One compatibility fix: which upstream gap it closes and the attributes it replaces."""

    name: str
    upstream_gap: str
    patches: Callable[[], list[tuple[Any, str, Any]]]
    _originals: list[tuple[Any, str, Any]] = field(default_factory=list, repr=False)

    @property
    def applied(self) -> bool:
        return bool(self._originals)

    def apply(self) -> None:
        if self.applied:
            return
        for owner, attribute, replacement in self.patches():
            self._originals.append((owner, attribute, owner.__dict__.get(attribute, _MISSING)))
            setattr(owner, attribute, replacement)

    def revert(self) -> None:
        while self._originals:
            owner, attribute, original = self._originals.pop()
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def json_answer(start_response: Any, body: object, status: str = "200 OK") -> list[bytes]:
    """A WSGI answer with a JSON body (the endpoint's own routes, under /local-aws/)."""
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def serve_route(path: str, answer: Callable[[dict[str, Any], Any], list[bytes]]) -> tuple[Any, str, Any]:
    """A patch of moto's WSGI app that answers `path` with `answer(environ, start_response)`."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__

    def call(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == path:
            return answer(environ, start_response)
        return original_call(self, environ, start_response)

    return (DomainDispatcherApplication, "__call__", call)


@contextlib.contextmanager
def applied(fixes: Sequence[Fix]) -> Iterator[None]:
    """Apply fixes for the duration of a block (used by the unit tests)."""
    for fix in fixes:
        fix.apply()
    try:
        yield
    finally:
        for fix in reversed(fixes):
            fix.revert()
