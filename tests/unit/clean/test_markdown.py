"""Markdown and HTML leftovers become plain text (news_pipeline.markdown), line by line and in whole articles."""

from __future__ import annotations

import polars as pl
import pytest

from news_pipeline.stages.clean import markdown as md
from news_pipeline.stages.extract.articles import extract_articles


def _plain(*lines: str) -> list[tuple[str, str]]:
    frame = pl.DataFrame({"doc_id": [0] * len(lines), "line_no": list(range(len(lines))), "line": list(lines)})
    out = md.add_plain(frame)
    return list(zip(out["md_type"].to_list(), out["plain"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("line", "plain"),
    [
        ('Der [Stadtrat](https://example.org/rat "Zum Stadtrat") tagt.', "Der Stadtrat tagt."),
        ("Die Brücke [(Plan)](https://example.org/a_(b)) wird gebaut.", "Die Brücke (Plan) wird gebaut."),
        ('Ein Titel mit "Zitat" [hier](/pfad "Der "neue" Plan") endet.', 'Ein Titel mit "Zitat" hier endet.'),
        ("Vor ![Foto vom Markt](https://example.org/m.jpg) dem Bild.", "Vor dem Bild."),
        ("[![Logo](https://example.org/logo.png)](https://example.org/)", ""),
        ("Siehe [den Bericht][1] dazu.", "Siehe den Bericht dazu."),
        (
            "Mehr unter <https://example.org/info> oder <post@example.org>.",
            "Mehr unter https://example.org/info oder post@example.org.",
        ),
        (
            r"Am 5\. November um 10\:00 \- nicht \*fett\* \[kein Link\]",
            "Am 5. November um 10:00 - nicht *fett* [kein Link]",
        ),
        (
            "Das ist **wichtig**, _betont_ und *kursiv*, ~~alt~~ und `Code`.",
            "Das ist wichtig, betont und kursiv, alt und Code.",
        ),
        (
            "Lehrer*innen und Schüler*innen, snake_case_name bleiben.",
            "Lehrer*innen und Schüler*innen, snake_case_name bleiben.",
        ),
        ("> Ein Zitat mit _Betonung_", "Ein Zitat mit Betonung"),
        ("- #### Anna Beispiel schreibt", "Anna Beispiel schreibt"),
        (r"\*\*Aktion\*\* heute", "*Aktion* heute"),
    ],
)
def test_inline_markdown_becomes_plain_text(line: str, plain: str):
    assert _plain(line)[0][1] == plain


def test_line_types_and_marks():
    got = _plain(
        "## Zwischentitel ##",
        "* erster Punkt",
        "+ zweiter Punkt",
        "***",
        "[1]: https://example.org/quelle",
        "1. Schritt eins",
        "Fließtext ohne Zeichen",
    )
    assert got == [
        (md.HEADING, "Zwischentitel"),
        (md.ITEM, "erster Punkt"),
        (md.ITEM, "zweiter Punkt"),
        (md.RULE, ""),
        (md.REFDEF, ""),
        (md.ORDERED, "1. Schritt eins"),
        (md.TEXT, "Fließtext ohne Zeichen"),
    ]


def test_tables_lose_their_pipes():
    gfm = _plain("| Ort | Wert |", "|---|---|", "| Linz | **12** |")
    assert gfm == [(md.TABLE, "Ort Wert"), (md.TABLE, ""), (md.TABLE, "Linz 12")]
    # html2text writes rows without outer pipes; the separator row says it is a table
    h2t = _plain("Ort | Wert", "---|---", "Graz | 7")
    assert h2t == [(md.TABLE, "Ort Wert"), (md.TABLE, ""), (md.TABLE, "Graz 7")]
    # a line with pipes outside a table keeps them
    assert _plain("Krimi | Doku | Sport") == [(md.TEXT, "Krimi | Doku | Sport")]


def test_links_broken_over_lines_are_joined():
    text = (
        '[ ![x](https://example.org/x.png) **Freie Stellen**  \nJetzt finden! ](https://example.org/jobs "Stellen\n'
        'im Amt")'
    )
    joined = pl.select(md.join_link_lines(pl.lit(text))).item()
    assert "\n" not in joined
    assert _plain(joined)[0][1] == "Freie Stellen Jetzt finden!"


def test_title_keeps_its_characters():
    title = pl.select(md.title_to_plain(pl.lit("# *Ab Montag* neue Regeln für Lehrer*innen"))).item()
    assert title == "*Ab Montag* neue Regeln für Lehrer*innen"
    assert pl.select(md.title_to_plain(pl.lit("**Ganz fett**"))).item() == "Ganz fett"


_FIRST = (
    'Die Stadt **Beispielhausen** hat ihre [Verwaltung](https://example.org/verwaltung "Verwaltung") neu geordnet, '
    "wie der Bürgermeister am Montag erklärte. Künftig sollen Anträge schneller bearbeitet werden, und die "
    "Wartezeiten in den Bürgerbüros sollen sinken."
)
_LAST = (
    "Die neue Ordnung gilt ab dem 1\\. Januar&nbsp;2026 &amp; soll nach einem Jahr überprüft werden, sagte eine "
    "Sprecherin der Stadt."
)
_ARTICLE = f"""Neue Ordnung im Rathaus

{_FIRST}

## Was sich ändert

Folgende Ämter werden zusammengelegt:

- das Bauamt und das Planungsamt
- das Ordnungsamt und das Bürgeramt

| Amt | Mitarbeitende |
|---|---|
| Bauamt | 40 |

{_LAST}
"""


def test_article_body_is_plain_text_with_items_as_lines_of_their_own():
    row = extract_articles(pl.DataFrame({"doc_id": ["a"], "raw_text": [_ARTICLE]})).row(0, named=True)
    body = row["body"]
    for mark in ("**", "](", "![", "|", "## ", "\\", "&nbsp;", "&amp;", "- das"):
        assert mark not in body, mark
    paragraphs = body.split("\n\n")
    assert "das Bauamt und das Planungsamt" in paragraphs
    assert "das Ordnungsamt und das Bürgeramt" in paragraphs
    assert "Bauamt 40" in paragraphs
    assert "Was sich ändert" in row["subheadings"]
    assert "ab dem 1. Januar 2026 & soll" in body
    assert row["links"] == ["https://example.org/verwaltung"]
