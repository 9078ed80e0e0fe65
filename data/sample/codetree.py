"""The sample source tree (data/sample/code/): three small "repos" plus the things a code reader
must skip (vendored dirs, a minified bundle, a generated file, a binary, lock files).

`files(png)` returns {relative path: bytes}; build.py writes them. `SKIP` lists what a reader is
expected to leave out, and why (recorded in data/sample/manifest.json).
"""

from __future__ import annotations

import json
import random

PY_INIT = '''"""tinyhttp: a very small HTTP/1.1 server for tests and demos."""

from tinyhttp.router import Router, Route
from tinyhttp.server import Server, serve

__all__ = ["Router", "Route", "Server", "serve"]
__version__ = "0.3.1"
'''

PY_ROUTER = '''"""URL routing: path patterns with named parameters, e.g. /users/{id}."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

Handler = Callable[..., "Response"]

_PARAM = re.compile(r"\\{(\\w+)\\}")


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
'''

PY_SERVER = '''"""A blocking, single-threaded server. Good enough for tests; not for production."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from tinyhttp.router import Router

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}"]
        headers = {"Content-Length": str(len(self.body)), "Connection": "close", **self.headers}
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\\r\\n".join(head) + "\\r\\n\\r\\n").encode("latin-1") + self.body


def parse_request(raw: bytes) -> Request:
    head, _, body = raw.partition(b"\\r\\n\\r\\n")
    lines = head.decode("latin-1").split("\\r\\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers, body)


class Server:
    def __init__(self, router: Router, host: str = "127.0.0.1", port: int = 8000):
        self.router, self.host, self.port = router, host, port

    def handle(self, request: Request) -> Response:
        found = self.router.resolve(request.method, request.path)
        if found is None:
            return Response(404, b"not found")
        handler, params = found
        try:
            return handler(request, **params)
        except Exception:  # a handler bug must not take the server down
            return Response(500, b"internal error")

    def serve_forever(self) -> None:
        with socket.create_server((self.host, self.port)) as sock:
            while True:
                conn, _addr = sock.accept()
                with conn:
                    raw = conn.recv(65536)
                    if raw:
                        conn.sendall(self.handle(parse_request(raw)).encode())


def serve(router: Router, port: int = 8000) -> None:
    Server(router, port=port).serve_forever()
'''

PY_TEST = '''from tinyhttp.router import Router
from tinyhttp.server import Request, Response, Server


def make_server() -> Server:
    r = Router()

    @r.get("/users/{id}")
    def user(req, id):
        return Response(200, f"user {id}".encode())

    @r.post("/echo")
    def echo(req):
        return Response(200, req.body)

    return Server(r)


def test_path_parameters():
    resp = make_server().handle(Request("GET", "/users/42", {}))
    assert resp.status == 200 and resp.body == b"user 42"


def test_unknown_path_is_404():
    assert make_server().handle(Request("GET", "/nope", {})).status == 404


def test_method_must_match():
    assert make_server().handle(Request("GET", "/echo", {})).status == 404


def test_encode_has_content_length():
    raw = Response(200, b"hello").encode()
    assert b"Content-Length: 5" in raw and raw.endswith(b"hello")
'''

PY_README = '''# tinyhttp

A very small HTTP/1.1 server for tests and demos, in about 150 lines of Python.

```python
from tinyhttp import Router, serve
from tinyhttp.server import Response

router = Router()

@router.get("/hello/{name}")
def hello(request, name):
    return Response(200, f"hello, {name}".encode())

serve(router, port=8000)
```

## Design notes

- Routes are matched in order; the first match wins. Patterns use `{name}` for a path segment.
- The server is single-threaded and closes the connection after every response.
- A handler that raises gets a `500` response instead of crashing the server.

## Development

```sh
python -m pytest -q
```
'''

PYPROJECT = '''[project]
name = "tinyhttp"
version = "0.3.1"
requires-python = ">=3.9"

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

POETRY_LOCK = '''# This file is automatically @generated by Poetry 1.8.2 and should not be changed by hand.

[[package]]
name = "iniconfig"
version = "2.0.0"
description = "brain-dead simple config-ini parsing"
optional = false
python-versions = ">=3.7"
files = [
    {file = "iniconfig-2.0.0-py3-none-any.whl", hash = "sha256:b6a85871a79d2e3b22d2d1b94ac2824226a63c6b741c88f7ae975f18b6778374"},
]

[[package]]
name = "pytest"
version = "8.1.1"
description = "pytest: simple powerful testing with Python"
optional = false
python-versions = ">=3.8"
files = [
    {file = "pytest-8.1.1-py3-none-any.whl", hash = "sha256:2a8386cfc11fa9d2c50ee7b2a57e7d898ef90470a7a34c4b949ff59662bb78b7"},
]

[metadata]
lock-version = "2.0"
python-versions = ">=3.9"
content-hash = "5f2b6e4c1c0d8f0bd2b0c59d1b0bd1e8a3f7c6f2a8b7e0d9c4b1a2f3e4d5c6b7"
'''

JS_INDEX = '''// webdash: a tiny dashboard that polls a JSON endpoint and draws sparklines.
import { Sparkline } from "./chart.js";
import { debounce, formatNumber } from "./utils.js";

const REFRESH_MS = 5000;

export class Dashboard {
  constructor(root, url) {
    this.root = root;
    this.url = url;
    this.charts = new Map();
    this.timer = null;
    this.onResize = debounce(() => this.render(), 150);
  }

  async poll() {
    const response = await fetch(this.url, { cache: "no-store" });
    if (!response.ok) {
      throw new Error(`GET ${this.url} failed with ${response.status}`);
    }
    const metrics = await response.json();
    for (const [name, value] of Object.entries(metrics)) {
      if (!this.charts.has(name)) {
        this.charts.set(name, new Sparkline(name, 60));
      }
      this.charts.get(name).push(value);
    }
    this.render();
  }

  render() {
    this.root.innerHTML = "";
    for (const chart of this.charts.values()) {
      const card = document.createElement("div");
      card.className = "card";
      card.innerHTML = `<h3>${chart.name}</h3><p>${formatNumber(chart.last())}</p>`;
      card.appendChild(chart.toSvg(this.root.clientWidth / 3, 40));
      this.root.appendChild(card);
    }
  }

  start() {
    window.addEventListener("resize", this.onResize);
    const tick = () => this.poll().catch((err) => console.error(err));
    tick();
    this.timer = setInterval(tick, REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    window.removeEventListener("resize", this.onResize);
  }
}
'''

JS_CHART = '''// A fixed-size ring of numbers drawn as an SVG polyline.
const SVG_NS = "http://www.w3.org/2000/svg";

export class Sparkline {
  constructor(name, capacity) {
    this.name = name;
    this.capacity = capacity;
    this.values = [];
  }

  push(value) {
    this.values.push(Number(value));
    if (this.values.length > this.capacity) {
      this.values.shift();
    }
  }

  last() {
    return this.values.length ? this.values[this.values.length - 1] : NaN;
  }

  toSvg(width, height) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    if (this.values.length < 2) {
      return svg;
    }
    const min = Math.min(...this.values);
    const max = Math.max(...this.values);
    const span = max - min || 1;
    const step = width / (this.values.length - 1);
    const points = this.values
      .map((v, i) => `${(i * step).toFixed(1)},${(height - ((v - min) / span) * height).toFixed(1)}`)
      .join(" ");
    const line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    svg.appendChild(line);
    return svg;
  }
}
'''

JS_UTILS = '''// Small helpers shared by the dashboard.

export function debounce(fn, waitMs) {
  let handle = null;
  return (...args) => {
    clearTimeout(handle);
    handle = setTimeout(() => fn(...args), waitMs);
  };
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  if (abs >= 1e9) return (value / 1e9).toFixed(1) + "G";
  if (abs >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (abs >= 1e3) return (value / 1e3).toFixed(1) + "k";
  return value.toFixed(abs < 10 ? 2 : 0);
}

export function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}
'''

JS_README = '''# webdash

Polls a JSON endpoint (`{"requests": 120, "errors": 3}`) and draws one sparkline per key.

```js
import { Dashboard } from "./src/index.js";
new Dashboard(document.getElementById("app"), "/metrics.json").start();
```

`npm run build` writes the minified bundle to `dist/webdash.min.js`.
'''

PACKAGE_JSON = {
    "name": "webdash", "version": "1.2.0", "type": "module", "main": "src/index.js",
    "scripts": {"build": "esbuild src/index.js --bundle --minify --outfile=dist/webdash.min.js", "test": "node --test"},
    "dependencies": {"left-pad": "^1.3.0"}, "devDependencies": {"esbuild": "^0.20.2"},
}

LEFTPAD = '''module.exports = leftPad;

function leftPad(str, len, ch) {
  str = String(str);
  var i = -1;
  if (!ch && ch !== 0) ch = ' ';
  len = len - str.length;
  while (++i < len) {
    str = ch + str;
  }
  return str;
}
'''

GO_MOD = '''module github.com/example/gokv

go 1.22

require github.com/example/bytesize v1.0.2
'''

GO_SUM = '''github.com/example/bytesize v1.0.2 h1:3Jq2Xk0Vb8c3r8bq0v5m9Wm0YxH2cXl1O4d6Yb2vJ5s=
github.com/example/bytesize v1.0.2/go.mod h1:Qx7Hc4dZ0k1f3m6W2eYQm0lB8Yf3c2Zl5n8pT1sV0aE=
'''

GO_MAIN = '''// Command gokv runs an in-memory key-value store behind a line protocol:
//
//	SET key value
//	GET key
//	DEL key
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"strings"

	"github.com/example/gokv/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7070", "listen address")
	flag.Parse()

	s := store.New()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	log.Printf("gokv listening on %s", *addr)
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Printf("accept: %v", err)
			continue
		}
		go handle(conn, s)
	}
}

func handle(conn net.Conn, s *store.Store) {
	defer conn.Close()
	scanner := bufio.NewScanner(conn)
	for scanner.Scan() {
		fields := strings.SplitN(strings.TrimSpace(scanner.Text()), " ", 3)
		switch strings.ToUpper(fields[0]) {
		case "SET":
			if len(fields) != 3 {
				fmt.Fprintln(conn, "ERR usage: SET key value")
				continue
			}
			s.Set(fields[1], fields[2])
			fmt.Fprintln(conn, "OK")
		case "GET":
			if v, ok := s.Get(fields[1]); ok {
				fmt.Fprintln(conn, v)
			} else {
				fmt.Fprintln(conn, "(nil)")
			}
		case "DEL":
			s.Delete(fields[1])
			fmt.Fprintln(conn, "OK")
		default:
			fmt.Fprintln(conn, "ERR unknown command")
		}
	}
}
'''

GO_STORE = '''// Package store is a concurrency-safe map with per-key versions.
package store

import "sync"

// Store maps keys to values. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	data     map[string]string
	versions map[string]uint64
}

// New returns an empty store.
func New() *Store {
	return &Store{data: make(map[string]string), versions: make(map[string]uint64)}
}

// Set stores value under key and bumps the key's version.
func (s *Store) Set(key, value string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
	s.versions[key]++
	return s.versions[key]
}

// Get returns the value for key and whether it was present.
func (s *Store) Get(key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	return v, ok
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}
'''

GO_STORE_TEST = '''package store

import (
	"fmt"
	"sync"
	"testing"
)

func TestSetGetDelete(t *testing.T) {
	s := New()
	if v := s.Set("a", "1"); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	if got, ok := s.Get("a"); !ok || got != "1" {
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}
	s.Delete("a")
	if _, ok := s.Get("a"); ok {
		t.Fatal("a still present after Delete")
	}
}

func TestConcurrentSet(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s.Set(fmt.Sprintf("k%d", i), "v")
		}(i)
	}
	wg.Wait()
	if s.Len() != 50 {
		t.Fatalf("Len = %d, want 50", s.Len())
	}
}
'''

GO_GENERATED = '''// Code generated by protoc-gen-go. DO NOT EDIT.
// versions:
// 	protoc-gen-go v1.33.0
// 	protoc        v4.25.3
// source: kv.proto

package pb

import (
	protoreflect "google.golang.org/protobuf/reflect/protoreflect"
	protoimpl "google.golang.org/protobuf/runtime/protoimpl"
)

type SetRequest struct {
	state         protoimpl.MessageState
	sizeCache     protoimpl.SizeCache
	unknownFields protoimpl.UnknownFields

	Key   string `protobuf:"bytes,1,opt,name=key,proto3" json:"key,omitempty"`
	Value string `protobuf:"bytes,2,opt,name=value,proto3" json:"value,omitempty"`
}

func (x *SetRequest) Reset() {
	*x = SetRequest{}
}

func (x *SetRequest) GetKey() string {
	if x != nil {
		return x.Key
	}
	return ""
}

func (x *SetRequest) GetValue() string {
	if x != nil {
		return x.Value
	}
	return ""
}

var file_kv_proto_rawDesc = []byte{
	0x0a, 0x08, 0x6b, 0x76, 0x2e, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x12, 0x02, 0x70, 0x62, 0x22, 0x34,
	0x0a, 0x0a, 0x53, 0x65, 0x74, 0x52, 0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0x12, 0x10, 0x0a, 0x03,
}

var _ = protoreflect.FullName("pb.SetRequest")
'''

GO_VENDOR = '''// Package bytesize formats byte counts for humans.
package bytesize

import "fmt"

// Format returns n as a short string such as "1.5 KiB".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
'''

C_CRC_H = '''#ifndef GOKV_CRC32_H
#define GOKV_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of len bytes. */
uint32_t crc32_ieee(const unsigned char *buf, size_t len);

/* Continue a running CRC; start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len);

#endif /* GOKV_CRC32_H */
'''

C_CRC_C = '''#include "crc32.h"

static uint32_t table[256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len) {
    if (!table_ready) {
        build_table();
    }
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ buf[i]) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t crc32_ieee(const unsigned char *buf, size_t len) {
    return crc32_update(0, buf, len);
}

#ifdef CRC32_MAIN
#include <stdio.h>
#include <string.h>

int main(void) {
    const char *check = "123456789";
    /* The standard check value for CRC-32/IEEE is 0xCBF43926. */
    printf("%08x\\n", crc32_ieee((const unsigned char *)check, strlen(check)));
    return 0;
}
#endif
'''

GO_MAKEFILE = '''.PHONY: build test crc

build:
\tgo build ./...

test:
\tgo test ./...

crc:
\tcc -O2 -DCRC32_MAIN -o crc32 csrc/crc32.c && ./crc32
'''

GO_README = '''# gokv

An in-memory key-value store with a line protocol (`SET`, `GET`, `DEL`), written as a Go exercise.

- `store/` is the map with per-key versions, safe for concurrent use.
- `internal/pb/` is generated from `kv.proto` (do not edit by hand).
- `csrc/` holds a C implementation of CRC-32 used by the snapshot format.

Run it with `go run . -addr 127.0.0.1:7070`, then `printf 'SET a 1\\nGET a\\n' | nc 127.0.0.1 7070`.
'''


def minified_js(rng: random.Random) -> str:
    """One very long line, like an esbuild bundle."""
    parts = ['(()=>{"use strict";']
    names = "abcdefghijklmnopqrstuvwxyz"
    for i in range(260):
        a, b, c = rng.choice(names), rng.choice(names), rng.choice(names)
        parts.append(f"var {a}{i}=function({b},{c}){{return {b}*{rng.randint(2, 97)}+{c}.length>{rng.randint(0, 999)}?{b}:{c}}};")
    parts.append('window.webdash={version:"1.2.0"};})();')
    return "".join(parts) + "\n"


SKIP = {
    "webdash/node_modules/left-pad/index.js": "vendored",
    "webdash/node_modules/left-pad/package.json": "vendored",
    "webdash/dist/webdash.min.js": "minified",
    "webdash/package-lock.json": "lock_file",
    "tinyhttp/poetry.lock": "lock_file",
    "tinyhttp/docs/logo.png": "binary",
    "gokv/internal/pb/kv.pb.go": "generated",
    "gokv/vendor/github.com/example/bytesize/bytesize.go": "vendored",
    "gokv/go.sum": "lock_file",
}


def files(png: bytes) -> dict[str, bytes]:
    rng = random.Random("code")
    lock = {"name": "webdash", "version": "1.2.0", "lockfileVersion": 3, "requires": True,
            "packages": {"": {"name": "webdash", "version": "1.2.0", "dependencies": {"left-pad": "^1.3.0"}},
                         "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                                                   "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQWbzvRhtIGMT7gqhsnoHWpTuRkRURGy0+MI+jzr2nfFr9wg=="}}}
    text = {
        "tinyhttp/README.md": PY_README,
        "tinyhttp/pyproject.toml": PYPROJECT,
        "tinyhttp/poetry.lock": POETRY_LOCK,
        "tinyhttp/src/tinyhttp/__init__.py": PY_INIT,
        "tinyhttp/src/tinyhttp/router.py": PY_ROUTER,
        "tinyhttp/src/tinyhttp/server.py": PY_SERVER,
        "tinyhttp/tests/test_router.py": PY_TEST,
        "webdash/README.md": JS_README,
        "webdash/package.json": json.dumps(PACKAGE_JSON, indent=2) + "\n",
        "webdash/package-lock.json": json.dumps(lock, indent=2) + "\n",
        "webdash/src/index.js": JS_INDEX,
        "webdash/src/chart.js": JS_CHART,
        "webdash/src/utils.js": JS_UTILS,
        "webdash/dist/webdash.min.js": minified_js(rng),
        "webdash/node_modules/left-pad/index.js": LEFTPAD,
        "webdash/node_modules/left-pad/package.json": json.dumps({"name": "left-pad", "version": "1.3.0", "main": "index.js", "license": "WTFPL"}, indent=2) + "\n",
        "gokv/README.md": GO_README,
        "gokv/go.mod": GO_MOD,
        "gokv/go.sum": GO_SUM,
        "gokv/Makefile": GO_MAKEFILE,
        "gokv/main.go": GO_MAIN,
        "gokv/store/store.go": GO_STORE,
        "gokv/store/store_test.go": GO_STORE_TEST,
        "gokv/internal/pb/kv.pb.go": GO_GENERATED,
        "gokv/vendor/github.com/example/bytesize/bytesize.go": GO_VENDOR,
        "gokv/csrc/crc32.h": C_CRC_H,
        "gokv/csrc/crc32.c": C_CRC_C,
    }
    out = {k: v.encode("utf-8") for k, v in text.items()}
    out["tinyhttp/docs/logo.png"] = png
    return out
