"""tinyhttp: a very small HTTP/1.1 server for tests and demos."""

from tinyhttp.router import Router, Route
from tinyhttp.server import Server, serve

__all__ = ["Router", "Route", "Server", "serve"]
__version__ = "0.3.1"
