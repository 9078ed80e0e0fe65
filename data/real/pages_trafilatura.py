"""Real saved pages with must / must-not phrases, from trafilatura 1.0.0's sdist.

`tests/cache/*.html` are pages saved from the web; `tests/realworld_tests.py` maps url -> file in
`MOCK_PAGES` and, in `test_extract`, loads a page with `load_mock_page(url, ...)` and asserts
`'X' in result` (must appear in the main text) and `'Y' not in result` (boilerplate that must
not). The test file is read with `ast`: comments (commented-out assertions) never reach it.
"""

from __future__ import annotations

import ast

from fetch import Archive, pypi_sdist
from pagemeta import page_lang, safe_name

PACKAGE, VERSION = "trafilatura", "1.0.0"
SHA256 = "10222e9475363091d38d4aa92349974a23363e8a98692b5f902d60bba3e53383"
LICENSE = "GPL-3.0-or-later (trafilatura 1.0.0)"
TESTS = "tests/realworld_tests.py"
# metadata_tests.py maps more of tests/cache/ to their urls (its assertions are on metadata, not text)
META_TESTS = "tests/metadata_tests.py"
# Not saved web pages: hand-written fixtures of unusual tags.
NOT_REAL = {"exotic_tags.html", "exotic_tags_tei.html"}


def _mock_pages(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MOCK_PAGES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"real-data build: {PACKAGE}=={VERSION}: MOCK_PAGES not found in {TESTS}")


def _applies_to_text(test: ast.expr) -> bool:
    """Whether an `if` in test_extract guards assertions that hold for plain-text output."""
    # `if xmloutput is False:` (text only) applies; `if xmloutput is True:` / `if xmloutput:` do not.
    if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "xmloutput":
        op, right = test.ops[0], test.comparators[0]
        if isinstance(right, ast.Constant):
            return (isinstance(op, (ast.Is, ast.Eq)) and right.value is False) or \
                   (isinstance(op, (ast.IsNot, ast.NotEq)) and right.value is True)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id == "xmloutput"
    return False


def _phrases(assert_test: ast.expr):
    """Yield ('must'|'must_not', phrase) for each `'X' in result` / `'X' not in result` clause."""
    clauses = assert_test.values if isinstance(assert_test, ast.BoolOp) and isinstance(assert_test.op, ast.And) \
        else [assert_test]
    for c in clauses:
        # a bare string clause (`... and 'III. Die Revision' and ...`, an upstream slip) asserts nothing
        if not (isinstance(c, ast.Compare) and len(c.ops) == 1 and isinstance(c.left, ast.Constant)
                and isinstance(c.left.value, str) and isinstance(c.comparators[0], ast.Name)
                and c.comparators[0].id == "result"):
            continue
        if isinstance(c.ops[0], ast.In):
            yield "must", c.left.value
        elif isinstance(c.ops[0], ast.NotIn):
            yield "must_not", c.left.value


def _loaded_url(stmt: ast.stmt) -> str | None:
    """The url of `result = load_mock_page('URL', ...)`, else None."""
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
        fn = stmt.value.func
        if getattr(fn, "id", None) == "load_mock_page" and stmt.value.args:
            arg = stmt.value.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return arg.value
    return None


def _assertions(tree: ast.Module) -> dict[str, dict[str, list[str]]]:
    """url -> {'must': [...], 'must_not': [...]} from every test function, in source order."""
    gold: dict[str, dict[str, list[str]]] = {}

    def walk(stmts: list[ast.stmt], url: str | None) -> str | None:
        for stmt in stmts:
            if (u := _loaded_url(stmt)) is not None:
                url = u
                gold.setdefault(url, {"must": [], "must_not": []})
            elif isinstance(stmt, ast.Assert) and url is not None:
                for kind, phrase in _phrases(stmt.test):
                    if phrase not in gold[url][kind]:
                        gold[url][kind].append(phrase)
            elif isinstance(stmt, ast.If) and _applies_to_text(stmt.test):
                url = walk(stmt.body, url)
        return url

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            walk(node.body, None)
    return gold


def pages() -> list[tuple[dict, bytes]]:
    """(row, html bytes) for every real page in tests/cache/, phrases attached where asserted."""
    arc = Archive(pypi_sdist(PACKAGE, VERSION, SHA256))
    tree = ast.parse(arc.read(TESTS).decode("utf-8"))
    gold = _assertions(tree)
    url_of = {f: u for u, f in _mock_pages(ast.parse(arc.read(META_TESTS).decode("utf-8"))).items()}
    url_of.update({f: u for u, f in _mock_pages(tree).items()})
    out = []
    for path in arc.names("tests/cache/"):
        fname = path.removeprefix("tests/cache/")
        if not fname.endswith(".html") or fname in NOT_REAL:
            continue
        html = arc.read(path)
        # metadata_tests.py names one file without its 'blog.' prefix: match by suffix then
        url = url_of.get(fname) or next((u for f, u in sorted(url_of.items()) if fname.endswith("." + f)), None)
        g = gold.get(url, {"must": [], "must_not": []})
        row = {"name": "trafilatura-" + safe_name(fname.removesuffix(".html")), "url": url,
               "lang": page_lang(html, url), "must": g["must"], "must_not": g["must_not"], "gold": None,
               "origin": f"{PACKAGE}=={VERSION}:tests/cache/{fname}" + (f"; phrases: {TESTS}" if url in gold else ""),
               "license": LICENSE}
        out.append((row, html))
    return out
