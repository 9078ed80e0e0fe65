"""URL routing: path patterns with named parameters, e.g. /users/{id}."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

Handler = Callable[..., "Response"]

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Route:
    method: str
    pattern: str
    handler: Handler
    regex: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # /users/{id} -> ^/users/(?P<id>[^/]+)$
        source = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", self.pattern)
        self.regex = re.compile(f"^{source}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        m = self.regex.match(path)
        return m.groupdict() if m else None


class Router:
    """Routes are tried in the order they were added; the first match wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method.upper(), pattern, handler))

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add("GET", pattern, fn)
            return fn
        return deco

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add("POST", pattern, fn)
            return fn
        return deco

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(method.upper(), path)
            if params is not None:
                return route.handler, params
        return None
