"""Encodings at the door: a latin-1 source file is text, not `binary_file`."""

from __future__ import annotations

from pipelines.config import ReadConfig
from pipelines.sources.code import check_code


def test_latin1_python_file_is_decoded_not_binary():
    raw = "# Auteur : René Müller, créé en été\nprint('déjà vu')\n".encode("latin-1")
    text, reason, st = check_code(raw, ReadConfig())
    assert reason is None and "René Müller" in text and st["encoding"] != "utf-8"
    assert check_code(b"\x00\x01binary", ReadConfig())[1] == "binary_file"
