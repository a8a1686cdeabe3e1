"""The raw query string, read strictly: every byte checked, every parameter known, none repeated.

Bottle decodes a query string leniently (a parameter named twice keeps the last value, one nobody
reads is ignored), so a caller's mistake (``color=red`` on a search whose filter is spelt ``colour``,
``w=100&w=2000``) would silently answer something else than asked. Here each route names the
parameters it takes, and anything else is a 400 with the reason.

One exception, for the edge's sake: a route whose cache behaviour keys on some parameters only
(``/img``: CloudFront forwards every parameter to the origin but caches on the listed ones) ignores
the others. Refusing them would cache that 400 under the key of the valid request it carries, and
one viewer's ``?w=320&junk=1`` would break ``?w=320`` for everyone until the error expires.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from .errors import bad_request

MAX_SHOWN = 40


def _shown(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    return repr(text[:MAX_SHOWN])


def _decoded(raw: str, what: str) -> str:
    """One percent-encoded part (WSGI hands it over as latin-1) as strict UTF-8 text without controls."""
    data = unquote_to_bytes(raw.encode("latin-1", "replace").replace(b"+", b" "))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"{what} is not valid UTF-8: {_shown(data)}") from None
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text):
        raise bad_request(f"{what} holds a control character: {_shown(text)}")
    return text


def parse_query_string(raw: str, allowed: Iterable[str], ignore_unknown: bool = False) -> dict[str, str]:
    """name -> value of a query string (``a=1&b=2``); a 400 for bytes that are not UTF-8 text, a
    control character, an unknown (unless ignore_unknown: then left out unread) or a repeated
    parameter. Empty pairs (``a=1&&b=2``) are skipped."""
    known = tuple(allowed)
    found: dict[str, str] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        raw_name, _equals, raw_value = pair.partition("=")
        name = _decoded(raw_name, "a parameter name")
        if name not in known and ignore_unknown:
            continue
        if name not in known:
            takes = f"takes {', '.join(known)}" if known else "takes no parameters"
            raise bad_request(f"unknown parameter {_shown(name)}: this route {takes}")
        if name in found:
            raise bad_request(f"parameter {name} is given more than once")
        found[name] = _decoded(raw_value, f"parameter {name}")
    return found
