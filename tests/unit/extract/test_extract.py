"""Cleaning and extraction on tiny inline articles: one noise kind at a time, exact outputs."""

from __future__ import annotations

import polars as pl
import pytest

from news_pipeline.stages.extract.articles import extract_articles

P1 = "Die Regierung hat am Montag ein neues Paket vorgestellt, das viele Bereiche betrifft und lange verhandelt wurde."
P2 = "Kritik kam von der Opposition, die von einem faulen Kompromiss sprach und Nachbesserungen verlangte."
TEASER = "Das Paket soll im Herbst in Kraft treten."


def extract(text: str) -> dict:
    return extract_articles(pl.DataFrame({"doc_id": ["x"], "raw_text": [text]})).row(0, named=True)


@pytest.mark.parametrize(
    ("opening", "dateline"),
    [
        ("Wien – ", "Wien"),
        ("Wien - ", "Wien"),
        ("Moskau, Russland - ", "Moskau, Russland"),
        ("Washington/Moskau – ", "Washington/Moskau"),
        ("St. Pölten – ", "St. Pölten"),
        ("Frankfurt am Main – ", "Frankfurt am Main"),
        ("Berlin (APA) – ", "Berlin"),
        ("", None),
    ],
)
def test_dateline_is_cut_from_the_body(opening: str, dateline: str | None):
    a = extract(f"Titel der Meldung\n\n{TEASER}\n\n{opening}{P1}\n\n{P2}\n")
    assert (a["title"], a["teaser"], a["dateline"]) == ("Titel der Meldung", TEASER, dateline)
    assert a["body"] == f"{P1}\n\n{P2}"


def test_teaser_that_looks_like_a_dateline_is_a_teaser():
    teaser = "Video in China ausgestrahlt – Behörden reagieren gelassen."
    a = extract(f"Titel\n\n{teaser}\n\n{P1}\n\n{P2}")
    assert a["teaser"] == teaser and a["dateline"] is None and a["body"] == f"{P1}\n\n{P2}"


def test_no_teaser_when_body_starts_with_dateline():
    a = extract(f"Titel\n\nWien – {P1}\n\n{P2}")
    assert a["teaser"] is None and a["dateline"] == "Wien" and a["body"] == f"{P1}\n\n{P2}"


@pytest.mark.parametrize("cut", [3, 6, 9, 12])
def test_broken_paragraph_rejoined_at_any_word(cut: int):
    words = P1.split()
    broken = " ".join(words[:cut]) + "\n\n" + " ".join(words[cut:])
    a = extract(f"Titel\n\n{TEASER}\n\n{broken}\n\n{P2}")
    assert a["body"] == f"{P1}\n\n{P2}" and a["subheadings"] == []


def test_subheadings_stay_and_broken_heading_rejoins():
    text = f"Titel\n\n{TEASER}\n\n{P1}\n\nDie Reaktionen der\n\nOpposition\n\n{P2}\n\nAusblick\n\n{P1}"
    a = extract(text)
    assert a["subheadings"] == ["Die Reaktionen der Opposition", "Ausblick"]
    assert a["body"].split("\n\n") == [P1, "Die Reaktionen der Opposition", P2, "Ausblick", P1]


def test_details_block_and_trailers():
    text = (
        f"Titel\n\n{TEASER}\n\n{P1} Das berichtet **vienna.at**.\n\n{P2} Laut [n-tv.de](#) und "
        "[BERLINER-zeitung.de](https://www.berliner-zeitung.de/x?a=1).\n\n"
        "Details\t\nVorfall\tUnfall\nOrt\tGraz, Österreich\n"
        'Quellen\t<ul style="list-style-type: none"><li>www.krone.at</li><li>https://www.orf.at/</li></ul>\n\n'
        "Besuchen Sie uns auf: [www.heute-news.at](https://heute-news.at)\n\n"
        "Mehr zum Thema –\u00a0Ein anderer Artikel\n\nMehr zum Thema – [Noch einer](https://x.at/y)\n\n"
        "Schreibe einen Kommentar\n\nIhre E-Mail-Adresse wird nicht veröffentlicht."
    )
    a = extract(text)
    assert a["category"] == "Unfall" and a["place"] == "Graz, Österreich"
    assert a["publisher"] == "heute-news.at"
    assert a["cited_sources"] == ["berliner-zeitung.de", "krone.at", "n-tv.de", "orf.at", "vienna.at"]
    assert a["related"] == ["Ein anderer Artikel", "Noch einer"]
    assert a["links"] == [
        "https://www.berliner-zeitung.de/x?a=1",
        "https://www.orf.at/",
        "https://heute-news.at",
        "https://x.at/y",
    ]
    assert a["body"] == f"{P1} Das berichtet vienna.at.\n\n{P2} Laut n-tv.de und BERLINER-zeitung.de."


def test_publisher_is_not_a_cited_source():
    a = extract(f"Titel\n\n{TEASER}\n\n{P1} Wie [heute.at](#) meldet.\n\n{P2}\n\nBesuchen Sie uns auf: [heute.at](#)")
    assert a["publisher"] == "heute.at" and a["cited_sources"] == []


def test_details_as_colon_lines_and_bullets():
    details = "Details:\nVorfall: Brand\nOrt: Linz\nQuellen:\n• www.nachrichten.at\n• www.ooe.orf.at"
    text = f"Titel\n\n{TEASER}\n\n{P1}\n\n{P2}\n\n{details}"
    a = extract(text)
    assert (a["category"], a["place"]) == ("Brand", "Linz")
    assert a["cited_sources"] == ["nachrichten.at", "ooe.orf.at"]
    assert a["body"] == f"{P1}\n\n{P2}"


def test_an_events_place_in_the_text_is_no_details_block():
    # "Ort:" among an event's facts (no "Details" heading, no "Vorfall") is article text, not the place
    facts = "- Datum: Samstag, 31. August 2024\n- Uhrzeit: ab 20 Uhr bis Mitternacht\n- Ort: Sternwarte am Kirchberg"
    a = extract(f"Titel\n\n{TEASER}\n\n{P1}\n\n{P2}\n\n{facts}")
    assert a["place"] is None
    assert a["body"].endswith("Uhrzeit: ab 20 Uhr bis Mitternacht\n\nOrt: Sternwarte am Kirchberg")


def test_a_servers_error_message_in_the_page_is_no_text():
    # a PHP warning printed into the page, on a line of its own and before the first sentence of a paragraph
    warning = "**Warning** : Undefined variable $autor in **/var/www/html/artikel.php** on line **12**"
    a = extract(f"Titel\n\n{TEASER}\n\n{warning}\n\n{warning} {P1}\n\n{P2}")
    assert a["body"] == f"{P1}\n\n{P2}"
    # ... and one that a scraper broke over lines
    broken = "**Deprecated**\n: Function create_function() is deprecated in\n\n**/var/www/x.php**\non line\n\n**82**"
    a = extract(f"Titel\n\n{TEASER}\n\n{broken}\n{P1}\n\n{P2}")
    assert a["body"] == f"{P1}\n\n{P2}"


def test_a_date_glued_to_the_headline_is_taken_off_it():
    # a scraper joined the page's date and its headline without a space: the date alone goes, the words stay
    a = extract(f"Titel\n\n# 27.01.2022Neue Zahlen zum Schulbau\n\n{TEASER}\n\n{P1}\n\n{P2}")
    text = "\n\n".join(x for x in (a["teaser"], a["body"]) if x)
    assert "27.01.2022" not in text and "Neue Zahlen zum Schulbau" in text
    # a date inside a sentence is untouched
    a = extract(f"Titel\n\n{TEASER}\n\nAm 27.01.2022 begann der Bau. {P1}\n\n{P2}")
    assert "Am 27.01.2022 begann der Bau." in a["body"]


def test_a_tag_that_broken_html_forms_around_a_link_goes():
    # "<strong>[Titel<](url)</strong>" scraped badly: the tag's halves meet once the link is taken out
    line = "Siehe auch den Vortrag **[Wie Dörfer wachsen<](https://dorf.example/vortrag)/strong>. –"
    a = extract(f"Titel\n\n{TEASER}\n\n{P1} {line}\n\n{P2}")
    assert "Wie Dörfer wachsen." in a["body"] and "<" not in a["body"]


def test_html_entities_invisible_characters_and_crlf():
    text = (
        "<h1>Titel &amp; Mehr</h1>\r\n\r\n"
        f"{TEASER}\r\n\r\n<p>Die Regie\u00adrung hat\u00a0am Montag&nbsp;ein neues\u200b Paket vorgestellt, das viele "
        "Bereiche betrifft und lange verhandelt wurde.</p>\r\n\r\n"
        f"<div class='x'>{P2}</div>"
    )
    a = extract(text)
    assert a["title"] == "Titel & Mehr"
    assert a["body"] == f"{P1}\n\n{P2}"


def test_boilerplate_lines_are_dropped():
    share, credit = "Facebook | Twitter | WhatsApp", "Foto: APA/Hans Muster"
    text = f"Titel\n\n{TEASER}\n\n{P1}\n\n{share}\n\n{P2}\n\n{credit}\n\nNewsletter abonnieren"
    assert extract(text)["body"] == f"{P1}\n\n{P2}"


def test_word_count():
    assert extract(f"Titel\n\n{TEASER}\n\n{P1} – 2025 „gut“.\n\n{P2}")["word_count"] == len(P1.split()) + 2 + len(
        P2.split()
    )


def test_copyright_line_names_the_publisher_and_anchor_credits_count():
    text = (
        f'Titel\n\n{TEASER}\n\n{P1} Wie <a href="https://www.n-tv.de/x">n-tv.de</a> berichtet.\n\n{P2}\n\n'
        "© 2025 www.donau-bote.at – Alle Rechte vorbehalten"
    )
    a = extract(text)
    assert a["publisher"] == "donau-bote.at" and a["cited_sources"] == ["n-tv.de"]
    assert a["links"] == ["https://www.n-tv.de/x"]
    assert a["body"] == f"{P1} Wie n-tv.de berichtet.\n\n{P2}"


def test_related_headline_keeps_its_quotes():
    a = extract(f'Titel\n\n{TEASER}\n\n{P1}\n\n{P2}\n\nMehr zum Thema – Minister: "Wir bleiben"')
    assert a["related"] == ['Minister: "Wir bleiben"']


def test_teaser_with_a_capitalised_phrase_before_a_dash_is_no_dateline():
    teaser = "Wegen Irreführung der Verbraucher – Kein Portal, sondern beteiligt."
    a = extract(f"Titel\n\n{teaser}\n\n{P1}\n\n{P2}")
    assert (a["teaser"], a["dateline"]) == (teaser, None)


@pytest.mark.parametrize("title", ["Copyrightbeschwerden wegen Modding-Tools", "Foto: Hersteller kündigt Event an"])
def test_headlines_that_start_like_boilerplate_stay(title: str):
    a = extract(f"{title}\n\n{TEASER}\n\n{P1}\n\nFoto: APA/dpa\n\n{P2}\n\nCopyright 2025 Verlag")
    assert (a["title"], a["teaser"], a["body"]) == (title, TEASER, f"{P1}\n\n{P2}")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Was über Milizen", "bekannt ist"),  # a W-clause heading broken before its verb
        ("Wie es", "weitergeht"),
    ],
)
def test_broken_w_clause_heading_is_one_heading(first: str, second: str):
    a = extract(f"Titel\n\n{TEASER}\n\n{P1}\n\n{first}\n\n{second}\n\n{P2}")
    assert a["subheadings"] == [f"{first} {second}"] and a["body"] == f"{P1}\n\n{first} {second}\n\n{P2}"


@pytest.mark.parametrize(
    "fragment",
    [
        "Jeder Verein gibt",
        "Die Unternehmen hatten mit verschiedenen Lieferanten",
        "Dass das Abkommen platzt, glaubt er nicht. Wir",
    ],
)
def test_sentence_fragments_are_not_headings(fragment: str):
    rest = "Geld aus, das er nicht hat, und das seit vielen Jahren so."
    a = extract(f"Titel\n\n{TEASER}\n\n{P1}\n\n{fragment}\n\n{rest}\n\n{P2}")
    assert a["subheadings"] == [] and a["body"] == f"{P1}\n\n{fragment} {rest}\n\n{P2}"
