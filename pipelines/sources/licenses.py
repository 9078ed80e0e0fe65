"""Licences of code trees: SPDX ids from licence texts (distinctive phrases) and package metadata.

- `detect_text(text)`: the SPDX ids whose distinctive phrases a licence text holds, in the order
  they appear (MIT, MIT-0, Apache-2.0, BSD-2/3/4-Clause, ISC, 0BSD, MPL-2.0, GPL/LGPL/AGPL,
  Unlicense, PSF-2.0, Artistic-2.0, CC0-1.0, Zlib, BSL-1.0, EPL-2.0, WTFPL); a short notice that
  only names its licence ("released under the MIT license") counts too.
- `normalize(value)`: an SPDX expression from what metadata declares ("MIT", "(MIT OR
  GPL-3.0-or-later)", "Apache 2.0", "GNU General Public License v3 (GPLv3)", a trove classifier's
  last part), or None when it names no licence unambiguously ("BSD", "GPL", "Public Domain").
- `declared(name, raw)`: the licence a metadata file declares (PKG-INFO / METADATA, pyproject.toml,
  setup.cfg, package.json, composer.json, Cargo.toml, a Debian `copyright` file).
- `is_permissive(expr, allowed)`: an OR is permissive when one branch is, an AND when all are.

Stdlib only, no I/O.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from email.parser import HeaderParser

# --- licence texts ------------------------------------------------------------------------------

def _key(text: str) -> str:
    """Lower-case words and numbers only: phrases match across markdown, comment marks and wrapping."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


_BSD = _key("Redistribution and use in source and binary forms, with or without modification, are permitted provided")
_ISC = re.compile(_key("Permission to use, copy, modify, and") + r"(?: or)? " + _key(
    "distribute this software for any purpose with or without fee is hereby granted"))
_GNU_LATER = re.compile(r"gnu (lesser |library |affero )?general public license as published by the free software "
                        r"foundation either version (\d)(?: (\d))? of the license or at your option any later version")
# (SPDX id, phrase) in _key form; a phrase is one licence's own title or grant sentence, so a text
# that quotes another licence's name (GPL-3.0 names the AGPL in its section 13) does not match it.
_PHRASES: list[tuple[str, str]] = [(spdx, _key(p)) for spdx, p in [
    ("MIT", "Permission is hereby granted, free of charge, to any person obtaining a copy"),
    ("Apache-2.0", "Apache License Version 2.0, January 2004"),
    ("Apache-2.0", "Licensed under the Apache License, Version 2.0"),
    ("MPL-2.0", "Mozilla Public License Version 2.0"),
    ("MPL-2.0", "Mozilla Public License, v. 2.0"),
    ("GPL-3.0-only", "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"),
    ("GPL-2.0-only", "GNU GENERAL PUBLIC LICENSE Version 2, June 1991"),
    ("LGPL-3.0-only", "GNU LESSER GENERAL PUBLIC LICENSE Version 3, 29 June 2007"),
    ("LGPL-2.1-only", "GNU LESSER GENERAL PUBLIC LICENSE Version 2.1, February 1999"),
    ("LGPL-2.0-only", "GNU LIBRARY GENERAL PUBLIC LICENSE Version 2, June 1991"),
    ("AGPL-3.0-only", "GNU AFFERO GENERAL PUBLIC LICENSE Version 3, 19 November 2007"),
    ("Unlicense", "This is free and unencumbered software released into the public domain"),
    ("PSF-2.0", "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2"),
    ("Artistic-2.0", "The Artistic License 2.0"),
    ("CC0-1.0", "CC0 1.0 Universal"),
    ("BSL-1.0", "Boost Software License - Version 1.0"),
    ("EPL-2.0", "Eclipse Public License - v 2.0"),
    ("WTFPL", "DO WHAT THE FUCK YOU WANT TO PUBLIC LICENSE"),
    ("Zlib", "Altered source versions must be plainly marked as such, and must not be misrepresented"),
]]

_NAMED = [(spdx, re.compile(rx)) for spdx, rx in [
    ("MIT", r"\b(?:the )?mit licen[cs]e\b"), ("ISC", r"\bisc license\b"), ("BSD-3-Clause", r"\bbsd 3 clause\b"),
    ("BSD-2-Clause", r"\bbsd 2 clause\b"), ("Apache-2.0", r"\bapache license version 2 0\b"),
]]

def _refine(spdx: str, key: str) -> str:
    """MIT without its notice clause is MIT-0; BSD by its clauses; ISC without one is 0BSD."""
    if spdx == "MIT" and _key("shall be included in all copies or substantial portions") not in key:
        return "MIT-0"
    if spdx == "BSD":
        if _key("All advertising materials mentioning features or use of this software") in key:
            return "BSD-4-Clause"
        if _key("endorse or promote products derived from this software") in key:
            return "BSD-3-Clause"
        return "BSD-2-Clause"
    if spdx == "ISC" and _key("provided that the above copyright notice and this permission notice appear in all "
                              "copies") not in key:
        return "0BSD"
    return spdx


def detect_text(text: str) -> list[str]:
    """SPDX ids of the licences whose phrases `text` holds, first-appearing first, no repeats."""
    key = _key(text)
    found: list[tuple[int, str]] = [(key.find(p), spdx) for spdx, p in _PHRASES if p in key]
    if (i := key.find(_BSD)) >= 0:
        found.append((i, "BSD"))
    if m := _ISC.search(key):
        found.append((m.start(), "ISC"))
    for m in _GNU_LATER.finditer(key):
        kind = {"lesser ": "LGPL", "library ": "LGPL", "affero ": "AGPL"}.get(m.group(1) or "", "GPL")
        found.append((m.start(), f"{kind}-{m.group(2)}.{m.group(3) or 0}-or-later"))
    if not found and len(key) < 400:  # a short notice that only names its licence ("MIT License - http://...")
        found = [(m.start(), spdx + "!") for spdx, rx in _NAMED if (m := rx.search(key))]
    out: list[str] = []
    for _, spdx in sorted(found):
        spdx = spdx[:-1] if spdx.endswith("!") else _refine(spdx, key)  # a named licence is taken as named
        if spdx not in out:
            out.append(spdx)
    return out


# --- SPDX expressions ---------------------------------------------------------------------------

# The ids this module reads and writes (the common ones of PyPI, npm and crates.io), by lower case.
KNOWN_IDS = {s.lower(): s for s in """
0BSD AFL-3.0 AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0 Artistic-1.0 Artistic-2.0
BlueOak-1.0.0 BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear BSD-4-Clause BSL-1.0
CC-BY-3.0 CC-BY-4.0 CC-BY-SA-4.0 CC0-1.0 CDDL-1.0 CECILL-2.1 EPL-1.0 EPL-2.0 EUPL-1.2 GPL-2.0 GPL-2.0-only
GPL-2.0-or-later GPL-3.0 GPL-3.0-only GPL-3.0-or-later HPND ISC LGPL-2.0 LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1
LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0-only LGPL-3.0-or-later MIT MIT-0 MIT-CMU MPL-1.1 MPL-2.0 MS-PL NCSA
OFL-1.1 OpenSSL PostgreSQL PSF-2.0 Python-2.0 Unicode-3.0 Unicode-DFS-2016 Unlicense UPL-1.0 WTFPL X11 Zlib ZPL-2.1
""".split()}

# Names that metadata uses for a licence, in _key form (trove classifiers' last part included).
ALIASES: dict[str, str] = {_key(k): v for k, v in {
    "MIT License": "MIT", "The MIT License": "MIT", "MIT/X11": "MIT", "Expat": "MIT", "MIT No Attribution": "MIT-0",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "Apache 2": "Apache-2.0", "Apache2": "Apache-2.0", "Apache 2.0": "Apache-2.0", "Apache License 2.0": "Apache-2.0",
    "Apache License, Version 2.0": "Apache-2.0", "Apache Software License": "Apache-2.0", "ASL 2.0": "Apache-2.0",
    "Apache Software License 2.0": "Apache-2.0", "Apache License (2.0)": "Apache-2.0", "Apache 2.0 License": "Apache-2.0",
    "BSD 3-Clause": "BSD-3-Clause", "3-Clause BSD": "BSD-3-Clause", "New BSD": "BSD-3-Clause",
    "New BSD License": "BSD-3-Clause", "Modified BSD": "BSD-3-Clause", "Revised BSD": "BSD-3-Clause",
    "BSD 3-Clause License": "BSD-3-Clause", "BSD 2-Clause": "BSD-2-Clause", "Simplified BSD": "BSD-2-Clause",
    "2-Clause BSD": "BSD-2-Clause", "FreeBSD": "BSD-2-Clause", "BSD 2-Clause License": "BSD-2-Clause",
    "ISC License": "ISC", "ISC License (ISCL)": "ISC", "MPL 2.0": "MPL-2.0", "Mozilla Public License 2.0": "MPL-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GPLv2": "GPL-2.0-only", "GPL v2": "GPL-2.0-only", "GPL-2": "GPL-2.0-only", "GPLv2+": "GPL-2.0-or-later",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GPLv3": "GPL-3.0-only", "GPL v3": "GPL-3.0-only", "GPL-3": "GPL-3.0-only", "GPLv3+": "GPL-3.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "LGPLv2.1": "LGPL-2.1-only", "LGPLv3": "LGPL-3.0-only", "LGPLv2+": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Library or Lesser General Public License (LGPL)": None,
    "AGPLv3": "AGPL-3.0-only", "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "The Unlicense": "Unlicense", "The Unlicense (Unlicense)": "Unlicense",
    "PSF": "PSF-2.0", "PSFL": "PSF-2.0", "PSF License": "PSF-2.0", "Python Software Foundation License": "PSF-2.0",
    "zlib License": "Zlib", "zlib/libpng License": "Zlib", "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "CC0": "CC0-1.0", "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "Artistic License 2.0": "Artistic-2.0", "Universal Permissive License (UPL)": "UPL-1.0",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
}.items() if v}

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _parse(tokens: list[str]):
    """SPDX expression -> ("or"|"and", [...]) / ("id", id, exception); ValueError when it is not one."""
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("unexpected end")
        pos += 1
        return tokens[pos - 1]

    def lic_id(tok: str) -> str:
        plus = tok.endswith("+") and tok[:-1].lower() in KNOWN_IDS
        base = tok[:-1] if plus else tok
        if base.lower().startswith("licenseref-"):
            return base
        if base.lower() not in KNOWN_IDS:
            raise ValueError(f"unknown licence id {tok!r}")
        norm = KNOWN_IDS[base.lower()]
        return f"{norm.removesuffix('-only')}-or-later" if plus else norm

    def factor():
        tok = take()
        if tok == "(":
            node = expr()
            if take() != ")":
                raise ValueError("unbalanced parentheses")
            return node
        if tok.upper() in ("AND", "OR", "WITH", ")"):
            raise ValueError(f"unexpected {tok!r}")
        lid = lic_id(tok)
        if (peek() or "").upper() == "WITH":
            take()
            return ("id", lid, take())
        return ("id", lid, None)

    def chain(sub, op: str):
        items = [sub()]
        while (peek() or "").upper() == op.upper():
            take()
            items.append(sub())
        return items[0] if len(items) == 1 else (op, items)

    def term():
        return chain(factor, "and")

    def expr():
        return chain(term, "or")

    node = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return node


def _render(node, parent: str | None = None) -> str:
    if node[0] == "id":
        return node[1] + (f" WITH {node[2]}" if node[2] else "")
    text = f" {node[0].upper()} ".join(_render(n, node[0]) for n in node[1])
    return f"({text})" if parent == "and" and node[0] == "or" else text


def parse_expression(value: str):
    """The parsed SPDX expression, or None when `value` is not one."""
    try:
        return _parse(_TOKEN.findall(value.replace("/", " OR ")))
    except ValueError:
        return None


def normalize(value: str | None) -> str | None:
    """An SPDX expression for a declared licence name or expression, None if there is none."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if alias := ALIASES.get(_key(value)):
        return alias
    if len(value) < 200 and (node := parse_expression(value)) is not None:
        return _render(node)
    if len(value) >= 200 or "\n" in value:  # some PKG-INFO `License:` fields hold the whole licence text
        ids = detect_text(value)
        return ids[0] if ids else None
    return None


def ids_of(expr: str | None) -> set[str]:
    """The licence ids an expression names."""
    node = parse_expression(expr) if expr else None
    out: set[str] = set()

    def walk(n) -> None:
        if n[0] == "id":
            out.add(n[1])
        else:
            for c in n[1]:
                walk(c)

    if node is not None:
        walk(node)
    return out


def family(spdx: str) -> str:
    """GPL-3.0-or-later, GPL-3.0-only and GPL-3.0 are one family."""
    return spdx.removesuffix("-or-later").removesuffix("-only")


def is_permissive(expr: str | None, allowed: set[str]) -> bool:
    """Whether an SPDX expression lets the code be used under the `allowed` licences only."""
    node = parse_expression(expr) if expr else None
    if node is None:
        return False

    def ok(n) -> bool:
        if n[0] == "id":
            return n[1] in allowed
        return any(map(ok, n[1])) if n[0] == "or" else all(map(ok, n[1]))

    return ok(node)


# --- metadata files -----------------------------------------------------------------------------

METADATA_FILES = frozenset({"PKG-INFO", "METADATA", "pyproject.toml", "setup.cfg", "package.json", "composer.json",
                            "Cargo.toml"})


def _classifiers(values) -> str | None:
    ids = sorted({a for v in values or [] if isinstance(v, str) and v.startswith("License ::")
                  if (a := ALIASES.get(_key(v.rsplit("::", 1)[1])))})
    return " OR ".join(ids) or None


def _first(*values) -> str | None:
    for v in values:
        if v:
            return v
    return None


def _pkg_info(text: str) -> str | None:
    msg = HeaderParser().parsestr(text)
    lic = msg.get("License") or ""
    return _first(normalize(msg.get("License-Expression")), normalize(lic.replace("\n        ", "\n")),
                  _classifiers(msg.get_all("Classifier")))


def _pyproject(text: str) -> str | None:
    data = tomllib.loads(text)
    project = data.get("project") or {}
    lic = project.get("license")
    if isinstance(lic, dict):
        lic = lic.get("text")
    poetry = ((data.get("tool") or {}).get("poetry") or {})
    return _first(normalize(lic if isinstance(lic, str) else None),
                  normalize(poetry.get("license") if isinstance(poetry.get("license"), str) else None),
                  _classifiers(project.get("classifiers")), _classifiers(poetry.get("classifiers")))


def _setup_cfg(text: str) -> str | None:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    if not cp.has_section("metadata"):
        return None
    meta = cp["metadata"]
    return _first(normalize(meta.get("license_expression")), normalize(meta.get("license")),
                  _classifiers((meta.get("classifiers") or "").splitlines()))


def _package_json(text: str) -> str | None:
    data = json.loads(text)
    if not isinstance(data, dict):
        return None
    lic = data.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if isinstance(lic, list):  # composer.json: a list means "any of"
        lic = " OR ".join(x for x in lic if isinstance(x, str))
    if not lic and isinstance(data.get("licenses"), list):  # the old npm form [{"type": ...}]
        lic = " OR ".join(x.get("type", "") for x in data["licenses"] if isinstance(x, dict) and x.get("type"))
    return normalize(lic) if isinstance(lic, str) else None


def _cargo(text: str) -> str | None:
    lic = (tomllib.loads(text).get("package") or {}).get("license")
    return normalize(lic) if isinstance(lic, str) else None


def _debian_copyright(text: str) -> str | None:
    """DEP-5: the `License:` of the `Files: *` paragraph (the upstream work as a whole)."""
    for para in re.split(r"\n\s*\n", text):
        if re.search(r"^Files:\s*\*\s*$", para, re.M) and (m := re.search(r"^License:\s*(.+)$", para, re.M)):
            return normalize(m.group(1))
    return None


_PARSERS = {"PKG-INFO": _pkg_info, "METADATA": _pkg_info, "pyproject.toml": _pyproject, "setup.cfg": _setup_cfg,
            "package.json": _package_json, "composer.json": _package_json, "Cargo.toml": _cargo,
            "copyright": _debian_copyright}


def declared(name: str, raw: bytes) -> str | None:
    """The licence a metadata file declares, as an SPDX expression; None if none or unreadable."""
    parser = _PARSERS.get(name.rsplit("/", 1)[-1])
    if parser is None:
        return None
    try:
        return parser(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError, AttributeError, TypeError):
        return None  # a broken manifest declares nothing; the licence files may still tell


# --- files of a directory ------------------------------------------------------------------------

_LICENSE_NAME = re.compile(r"^(?:(?:un)?licen[cs]e|copying|copyright|notice)(?:[-._][\w.-]*)?$"
                           r"|^(?P<stem>[\w.-]+?)[-._](?:licen[cs]e|copying)(?:\.(?:txt|md|rst))?$", re.I)


def license_file(name: str) -> tuple[bool, str | None]:
    """(is a licence file, the module stem it is for): LICENSE.txt -> (True, None); six.LICENSE ->
    (True, "six") (pip's vendored single modules); MIT-LICENSE -> (True, None)."""
    m = _LICENSE_NAME.match(name)
    if not m:
        return False, None
    stem = m.group("stem")
    # MIT-LICENSE, BSD-LICENSE.txt, LICENSE-APACHE: the stem names a licence, not a module
    if stem is None or ALIASES.get(_key(stem)) or _key(stem) in KNOWN_IDS or _key(stem) in {"bsd", "gpl", "lgpl", "apache"}:
        return True, None
    return True, stem


def resolve(texts: list[tuple[str, bytes]], metadata: list[tuple[str, bytes]]) -> tuple[str | None, str | None, bool]:
    """(SPDX expression, the file(s) it comes from, evidence found) for one directory, from its licence
    files' texts and its metadata files, each (name, bytes), sorted by name.

    Declared metadata wins when the licence files name nothing it leaves out (it is the more
    precise: OR, -or-later); otherwise the files' first licences, joined with AND (an unknown
    conjunction is read the strict way). Evidence without a match (a custom LICENSE, `License:
    UNKNOWN` with a licence file) means the licence is unknown here, not the parent folder's."""
    file_ids: list[str] = []
    file_names: list[str] = []
    for name, raw in texts:
        ids = detect_text(raw.decode("utf-8", "replace"))
        if ids:
            file_names.append(name)
            if ids[0] not in file_ids:
                file_ids.append(ids[0])
    decl = next(((lic, name) for name, raw in metadata if (lic := declared(name, raw))), None)
    if decl and {family(i) for i in file_ids} <= {family(i) for i in ids_of(decl[0])}:
        return decl[0], decl[1], True
    if file_ids:
        return " AND ".join(file_ids), ",".join(file_names), True
    # NOTICE / COPYRIGHT files credit authors; only a licence file that names nothing known makes it unknown
    return None, None, any(not n.lower().startswith(("notice", "copyright")) for n, _ in texts)
