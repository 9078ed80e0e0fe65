"""web/pages.warc.gz: the real saved pages of web/pages.jsonl packed as WARC response records, so a
pipeline run reads them as a `kind: web` source (configs/real-web.yaml) exactly like crawled pages.

Each record holds the page's bytes as shipped behind a minimal HTTP head that names no charset (the
reader must find it, as it must for most of the web); the target URI is the page's url, or a
`urn:grist:real-page:<name>` when the source gave none. One gzip member per record (as Common
Crawl writes them), with mtime 0 and a record id derived from the name: the file is deterministic.
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

DATE = "2024-01-01T00:00:00Z"


def _record(name: str, url: str, html: bytes) -> bytes:
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + str(len(html)).encode()
            + b"\r\n\r\n" + html)
    rid = uuid.uuid5(uuid.NAMESPACE_URL, f"grist-real-page:{name}")
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{rid}>\r\nWARC-Date: {DATE}\r\n"
            f"WARC-Target-URI: {url}\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http)}\r\n\r\n").encode()
    return gzip.compress(head + http + b"\r\n\r\n", compresslevel=6, mtime=0)


def build(web: Path) -> dict[str, int]:
    """Write web/pages.warc.gz from web/pages.jsonl and web/pages/ (already written)."""
    rows = [json.loads(line) for line in (web / "pages.jsonl").read_text(encoding="utf-8").splitlines() if line]
    with open(web / "pages.warc.gz", "wb") as f:
        for r in rows:
            url = r.get("url") or f"urn:grist:real-page:{r['name']}"
            f.write(_record(r["name"], url, (web / r["file"]).read_bytes()))
    return {"pages_warc_records": len(rows)}
