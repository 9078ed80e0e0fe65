"""Real WARC / ARC files from the test data of warcio 1.6.3 and pywb 2.10.0 (web/warc/).

warcio's sdists stopped shipping `test/data/` after 1.6.3 (1.7.0 to 1.8.1 have none), so 1.6.3 is
pinned. The notes were measured by reading each file with warcio 1.8.1's ArchiveIterator
(`arc2warc=True`): record types, HTTP status codes, Content-Encoding, Transfer-Encoding, charsets.
"""

from __future__ import annotations

from fetch import Archive, pypi_sdist

SOURCES = {
    # prefix: (package, version, sha256, folder in the sdist, licence)
    "warcio": ("warcio", "1.6.3", "3944846590145c93e9d9370e3a7e7df3f19ad2e988205a5d819085a7167cd0db", "test/data/", "Apache-2.0"),
    "pywb": ("pywb", "2.10.0", "5ae43c9b2a5321e39b9c8e16538bfbc0146eeb6fe26713232e45378b774a1a96",
             "sample_archive/warcs/", "GPL-3.0"),
}
# (prefix, file) -> what is notable in it
NOTES = {
    ("warcio", "example.warc"): "warcinfo x2, request x2, response, revisit; both HTTP 200 responses carry "
                                "Content-Encoding: gzip (body starts \\x1f\\x8b)",
    ("warcio", "example.warc.gz"): "example.warc as per-record gzip members: Content-Encoding: gzip responses",
    ("warcio", "example-trunc.warc"): "response with Content-Encoding: gzip; the file ends inside a record "
                                      "(truncated): warcio warns 'Content-Length is invalid'",
    ("warcio", "example-iana.org-chunked.warc"): "response with Transfer-Encoding: chunked, text/html; charset=utf-8",
    ("warcio", "example-bad-non-chunked.warc.gz"): "whole file is one gzip stream, not one member per record: "
                                                   "warcio reads the warcinfo then raises 'non-chunked gzip file'",
    ("warcio", "example-bad.warc.gz.bad"): "same fault as example-bad-non-chunked.warc.gz (one gzip stream)",
    ("warcio", "example-resource.warc.gz"): "warcinfo x2 and a resource record (no HTTP headers)",
    ("warcio", "post-test.warc.gz"): "POST request / response pairs (3), HTTP 200",
    ("warcio", "example.arc"): "ARC v1 file: header + one HTTP 200 response",
    ("warcio", "example.arc.gz"): "example.arc gzipped per record",
    ("warcio", "bad.arc"): "ARC with malformed record headers (length -1, 'abc', an extra field)",
    ("pywb", "missing-status-text.warc"): "one response whose status line is 'HTTP/1.0 302 ' (no reason text); "
                                          "its HTTP header lines end in \\r\\r\\n",
    ("pywb", "example.warc"): "request x2, response x2 (200), revisit; a 302; text/html; charset=iso-8859-1",
    ("pywb", "example.warc.gz"): "example.warc gzipped per record",
    ("pywb", "example2.warc.gz"): "request + response (200) with Content-Encoding: gzip",
    ("pywb", "example-extra.warc"): "request x2, response x2 (200), revisit x2",
    ("pywb", "example-wget-1-14.warc.gz"): "written by wget 1.14: request, response (200), 3 resource records",
    ("pywb", "example-wpull.warc.gz"): "written by wpull: request, response (200), a resource record",
    ("pywb", "example-url-agnostic-orig.warc.gz"): "one response (200), charset=utf-8",
    ("pywb", "example-url-agnostic-revisit.warc.gz"): "one url-agnostic revisit record",
    ("pywb", "httpbin-resource.warc.gz"): "one resource record",
    ("pywb", "dupes.warc.gz"): "12 request, 3 response, 9 revisit; Transfer-Encoding: chunked (7); a 302",
    ("pywb", "iana.warc.gz"): "a crawl of iana.org: 171 request, 48 response, 123 revisit; 167 x 200, 4 x 302; "
                              "chunked bodies (134); charsets utf-8 and iso-8859-1; html, css, js, fonts, images",
    ("pywb", "post-test.warc.gz"): "POST request / response pairs (3), HTTP 200",
    ("pywb", "example.arc"): "ARC v1 file: header + one HTTP 200 response",
    ("pywb", "example.arc.gz"): "example.arc gzipped per record",
    ("pywb", "bad.arc"): "ARC with malformed record headers (length -1, 'abc', an extra field)",
    ("pywb", "example-bad.warc.gz.bad"): "one gzip stream instead of a member per record",
}
# A real Content-Encoding: br payload: pywb's rewriter tests serve it as a brotli-encoded body.
BROTLI = ("pywb", "sample_archive/text_content/quickfox_repeated.compressed",
          "brotli-compressed body ('The quick brown fox jumps over the lazy dog' repeated), "
          "served by pywb's tests with Content-Encoding: br")


def _format(name: str) -> str:
    for fmt in ("warc.gz", "warc", "arc.gz", "arc"):
        if name.endswith("." + fmt) or name.endswith(f".{fmt}.bad"):
            return fmt
    return "other"


def files() -> list[tuple[dict, bytes]]:
    """(index row, bytes) for every WARC / ARC file of the pinned sdists, and the brotli sample."""
    out = []
    for prefix, (pkg, version, sha, folder, lic) in SOURCES.items():
        arc = Archive(pypi_sdist(pkg, version, sha))
        for path in arc.names(folder):
            name = path.removeprefix(folder)
            if "/" in name or _format(name) == "other":
                continue
            row = {"file": f"{prefix}-{name}", "format": _format(name), "origin": f"{pkg}=={version}:{path}",
                   "license": f"{lic} ({pkg} {version})", "notes": NOTES.get((prefix, name), "")}
            out.append((row, arc.read(path)))
        if prefix == BROTLI[0]:
            row = {"file": f"{prefix}-{BROTLI[1].rsplit('/', 1)[1]}", "format": "brotli",
                   "origin": f"{pkg}=={version}:{BROTLI[1]}", "license": f"{lic} ({pkg} {version})",
                   "notes": BROTLI[2]}
            out.append((row, arc.read(BROTLI[1])))
    return out
