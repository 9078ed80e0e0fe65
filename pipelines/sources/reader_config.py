"""Options of the `books` and `encyclopedia` readers (`read.books`, `read.encyclopedia` in a config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.strict import StrictModel

# The HTML extractors (pipelines/sources/extract.py). Named here so a config is read without
# importing trafilatura, lxml and resiliparse (~45 MiB in every process that parses a config).
Extractor = Literal["resiliparse", "trafilatura", "grist"]

# EPUB structural types (EPUB 3 epub:type / ARIA doc-* roles / EPUB 2 guide types) not read by default.
DEFAULT_SKIP_MATTER = ["toc", "landmarks", "page-list", "loi", "lot", "index", "cover", "copyright-page", "colophon"]

# Trailing sections of the largest Wikipedias that hold no prose: references, links, see-also lists.
DEFAULT_DROP_SECTIONS: dict[str, list[str]] = {
    "en": ["References", "External links", "See also", "Further reading", "Notes", "Footnotes", "Citations",
           "Sources", "Notes and references", "References and notes", "Works cited", "Bibliography"],
    "de": ["Einzelnachweise", "Weblinks", "Siehe auch", "Literatur", "Anmerkungen", "Quellen", "Belege"],
    "fr": ["Notes et références", "Références", "Liens externes", "Voir aussi", "Bibliographie",
           "Articles connexes", "Notes"],
    "es": ["Referencias", "Enlaces externos", "Véase también", "Bibliografía", "Notas", "Fuentes"],
    "it": ["Note", "Bibliografia", "Collegamenti esterni", "Voci correlate", "Altri progetti"],
    "zh": ["参考文献", "參考文獻", "参考资料", "參考資料", "外部链接", "外部連結", "参见", "參見", "延伸阅读",
           "延伸閱讀", "注释", "註釋", "脚注", "腳註"],
    "ja": ["脚注", "出典", "参考文献", "関連項目", "外部リンク", "注釈"],
    "ru": ["Примечания", "Литература", "Ссылки", "См. также", "Источники"],
}


class BooksConfig(StrictModel):
    skip_matter: list[str] = Field(default_factory=lambda: list(DEFAULT_SKIP_MATTER),
                                   description="EPUB documents / sections of these types are not read "
                                               "(epub:type, doc-* role or guide type: toc, cover, "
                                               "copyright-page, colophon, titlepage, ...)")
    epub_nonlinear: bool = Field(False, description="also read spine items marked linear=\"no\"")


class EncyclopediaConfig(StrictModel):
    tables: Literal["drop", "text"] = Field("drop", description="wiki tables: dropped, or one line per row "
                                                                "with cells joined by ' | '")
    drop_sections: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_DROP_SECTIONS.items()},
        description="per wiki language: section headings removed with their content (names of every "
                    "language are applied, case-insensitive)")
