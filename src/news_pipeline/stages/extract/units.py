"""A scraped page as units with features: paragraphs, list items, table rows and headings, column-wise.

A unit's features hold for German web pages in general, whatever the site: its length in
characters and words, its stop-word density (German and English function words: prose has many,
menus, tag lists and link lists few), its link density (the share of its characters inside links:
navigation is links), bare URLs, list item or heading, whether it ends like a sentence, and
whether it is generic web text (``patterns.WEB_BOILERPLATE`` and ``WEB_WORDS``).
:mod:`news_pipeline.stages.extract.boilerplate` scores the units and finds the article.

Everything runs on the line frame of ``parse`` (one row per non-blank line, the rows of one
document contiguous and in order): sums over units by running totals instead of a group-by,
neighbours by guarded shifts.
"""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.clean import markdown as md
from news_pipeline.stages.clean.normalize import ANY_TAG
from news_pipeline.stages.extract import patterns as P

#: The most frequent German and English function words. Prose is a third to a half function
#: words; navigation, tag clouds, name lists and product grids have few or none.
STOP_WORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf aus bei beim
    bereits bin bis bisher bist bzw da dabei dadurch dafür dagegen daher damit dann daran darauf darin darum
    darüber das dass davon dazu dein deine dem den denen denn dennoch der deren des deshalb dessen die dies diese
    diesem diesen dieser dieses doch dort du durch eben ein eine einem einen einer eines einige einigen einmal er
    es etwa etwas euch euer für gab gegen gewesen gibt hab habe haben hat hatte hatten hier hin hinter ich ihm
    ihn ihnen ihr ihre ihrem ihren ihrer ihres im immer in ins ist ja jede jedem jeden jeder jedoch jetzt kann
    kein keine keinem keinen keiner können könnte man manche mehr mein meine meinem meinen meiner mich mir mit
    muss musste müssen nach nachdem nicht nichts noch nun nur ob oder ohne schon sehr sein seine seinem seinen
    seiner seit selbst sich sie sind so sogar solche soll sollen sollte sondern sowie über um und uns unser
    unsere unter viel viele vom von vor wann war waren warum was weil weiter welche welchem welchen welcher
    wenn wer werde werden wie wieder will wir wird wo wurde wurden während zu zum zur zwar zwischen
    a about after all also an and are as at be because been but by can could did do does for from had has have
    he her his how i if in into is it its more my no not of on one or our out she so some than that the their
    them then there these they this to up was we were what when which who will with would you your
    """.split()
)
_STOP_PATTERN = "|".join(sorted(STOP_WORDS, key=len, reverse=True))
# A stop word between two non-letters. The match takes the character after the word, so of two
# stop words in a row ("in der") the second is missed: the count is a steady share below the
# true one for all texts alike, and the thresholds below are set on this count. (A "\b" would
# find both, at ten times the cost: it makes the engine leave its DFA on non-ASCII text.)
_STOP = rf"(?i)(?:^|[^\p{{L}}\p{{N}}])(?:{_STOP_PATTERN})(?:[^\p{{L}}\p{{N}}]|$)"
#: Words of site furniture: consent dialogs, account and comment forms, subscriptions. A tenth of a
#: unit's words from this list (two at least) is a consent text or a form, not an article. Words that
#: news write about (Daten, Website, Passwort, Browser) are left out: with these, no paragraph of the
#: generated news corpus and no article paragraph of the real-world set reaches the share.
WEB_WORDS = (
    "cookies? einwilligung(?:en)? datenschutz(?:erklärung|bestimmungen|einstellungen|hinweise?|richtlinie) "
    "e-mail-adresse registrierung registrieren anmelden anmeldung einloggen eingeloggt nutzungsbedingungen "
    "newsletter abonnieren "
    "abonnement zustimmung zustimmen widerrufen einstellungen personalisierte? werbepartner drittanbieter "
    "pflichtfeld\\w* benutzername nutzerkonto abmelden akzeptieren personenbezogene?n? tracking netiquette "
    "kommentarfunktion abo e-paper epaper"
).split()
_WEB_WORDS = rf"(?i)(?:^|[^\p{{L}}])(?:{'|'.join(WEB_WORDS)})(?:[^\p{{L}}]|$)"
_WORD = r"[\p{L}\p{N}][\p{L}\p{N}'’.\-]*"
_HOME_LINK = r"\]\(\s*<?(?:https?://[^/\s)>]+)?/?>?(?:\s+\"[^\"]*\")?\s*\)"  # a Markdown link to a site's root
_URL = r"(?:https?://|www\.)\S+"
# a link whose text is an address: "[https://…](…)", "[www.x.de](…)", "[x.de/aufruf](…)"
_URL_LINK = (
    rf"{md.LINK_OPEN}\s*(?:(?:https?://|www\.)[^\s{md.LINK_CLOSE}]*|{P.DOMAIN_NAME}(?:/[^\s{md.LINK_CLOSE}]*)?)"
    rf"\s*{md.LINK_CLOSE}"
)
# a unit that ends like this goes on in the next one, a paragraph that layout broke: on a comma, a dash,
# an open parenthesis, or a lower-case word (German nouns are capitalised; see parse.join_broken_blocks)
_OPEN_END = r"[,\-–—(/&]$|(?:^|\s)[a-zäöüß][\p{L}\p{N}'’\-]*$"
_COLON_END = r":[\"“”„»«'’)\]]*$"  # a line that introduces what follows ("Mehr Themen:", "Quellen:", "Teilen mit:")
#: Stop words are counted in a unit's first characters: enough for a steady share, and a long
#: paragraph costs no more than a short one.
_SAMPLE_CHARS = 200
_TAIL_CHARS = 60  # a line's end: its last word and punctuation, or an agency signature "(APA, 4.10.2015)"

MIN_REPEAT_CHARS = 12  # a heading this long that repeats the title is the headline, not a word like "News"
SITE_SEPARATOR = r"^\s*[|\-–—:·•]\s"  # between a page title's headline and the site's name
MAX_PHRASE_LINE_CHARS = 600  # a line up to this long that opens with a web phrase is web text
MAX_HEADING_CHARS = 80  # a heading that opens comments or a related list is short
MAX_SIGN_OFF_CHARS = 40  # a sign-off under a post is a greeting and a name


def _link_features(lines: pl.DataFrame) -> pl.DataFrame:
    """``n_links``, ``link_chars`` and ``url_chars`` per line, and ``plain`` without the link markers."""
    plain = pl.col("plain")
    zeros = pl.repeat(0, lines.height, dtype=pl.Int64, eager=True)
    # links and bare URLs are measured on the lines that have one (a third of a news text's lines)
    rows = lines.select(pl.arg_where(plain.str.contains(f"{md.LINK_OPEN}|https?://|www\\."))).to_series()
    n_links = plain.str.count_matches(md.LINK_OPEN, literal=True)
    no_links = plain.str.replace_all(rf"{md.LINK_OPEN}[^{md.LINK_CLOSE}]*{md.LINK_CLOSE}", "")
    linked = (
        lines.select(plain)
        .gather(rows)
        .select(
            n_links.cast(pl.Int64).alias("n_links"),
            # characters inside links, markers left out (two per link)
            (plain.str.len_chars() - no_links.str.len_chars() - 2 * n_links).cast(pl.Int64).alias("link_chars"),
            # characters of bare URLs: a cited source in the text, not navigation (menus are links)
            (no_links.str.len_chars() - no_links.str.replace_all(_URL, "").str.len_chars())
            .cast(pl.Int64)
            .alias("url_chars"),
            # (a link whose text is its own address: a cited source too, as a bare URL; markers left out)
            (
                plain.str.len_chars()
                - plain.str.replace_all(_URL_LINK, "").str.len_chars()
                - 2 * plain.str.count_matches(_URL_LINK)
            )
            .cast(pl.Int64)
            .alias("_url_links"),
            plain.str.replace_all(f"[{md.LINK_OPEN}{md.LINK_CLOSE}]", "").alias("plain"),
        )
        .with_columns(pl.col("link_chars") - pl.col("_url_links"), pl.col("url_chars") + pl.col("_url_links"))
        # (broken HTML can form a tag once a link is taken out: "hat<](…)/strong>" reads "hat</strong>")
        .with_columns(
            pl.when(plain.str.contains("<", literal=True)).then(plain.str.replace_all(ANY_TAG, "")).otherwise(plain)
        )
    )
    lines = lines.with_columns(
        *[zeros.clone().scatter(rows, linked.get_column(c)).alias(c) for c in ("n_links", "link_chars", "url_chars")],
        lines.get_column("plain").scatter(rows, linked.get_column("plain")),
    )
    return lines


def line_features(lines: pl.DataFrame) -> pl.DataFrame:
    """Per line: ``chars``, ``link_chars``, ``words``, ``stops`` (in the first ``_SAMPLE_CHARS``), ``web_phrase``,
    ``web_line`` (the line opens with a phrase of site text: ``add_units`` gives it a unit of its own) and
    ``figure`` (of the site text, a picture's zoom hint or a gallery's button: ``patterns.FIGURE``).

    ``lines`` needs ``plain`` with link texts between ``markdown.LINK_OPEN`` and ``LINK_CLOSE``;
    the markers are taken out here.
    """
    lines = _link_features(lines)
    plain = pl.col("plain")
    # (a link's text can keep the spaces inside its brackets, "[ Text herunterladen ](…)": they are no word gaps)
    sample = plain.str.slice(0, _SAMPLE_CHARS).str.strip_chars(" ")
    chars = plain.str.len_chars()
    # words are counted in the sample as gaps between them (the plain text has single spaces) and
    # scaled to the line: a regex over every word of every line would cost several times more
    sample_words = sample.str.count_matches(" ", literal=True) + 1
    lines = lines.with_columns(
        chars.alias("chars"),
        sample_words.alias("sample_words"),
        (sample_words * chars.clip(_SAMPLE_CHARS) // _SAMPLE_CHARS).alias("words"),
        sample.str.count_matches(_STOP).alias("stops"),
        sample.str.count_matches(_WEB_WORDS).alias("web_words"),
    )
    # the phrases and headings are short lines: the patterns run on those alone (a consent text can
    # be a long paragraph that opens with one of the phrases)
    short = lines.select(pl.arg_where(chars <= MAX_PHRASE_LINE_CHARS)).to_series()
    # a heading is not a link: "3 Kommentare" linked under a headline points at the comments
    # (lines the line rules labelled "related" are one related link each, not the heading of a list)
    heading = (
        (pl.col("chars") <= MAX_HEADING_CHARS)
        & (pl.col("link_chars") * 2 < pl.col("chars"))
        & (pl.col("kind") != "related")
    )
    flags = (
        lines.select("plain", "chars", "link_chars", "kind", "md_type")
        .gather(short)
        .select(
            plain.str.contains(P.WEB_BOILERPLATE).alias("web_line"),
            ((pl.col("chars") <= P.MAX_BOILERPLATE_CHARS) & plain.str.contains(P.WEB_BOILERPLATE_ANYWHERE)).alias(
                "web_phrase"
            ),
            (heading & plain.str.contains(P.COMMENTS_HEADING)).alias("comments_heading"),
            (heading & (pl.col("md_type") != md.HEADING) & plain.str.contains(P.COMMENTS_BARE)).alias("comments_bare"),
            (heading & plain.str.contains(P.RELATED_HEADING)).alias("related_heading"),
            ((pl.col("chars") <= MAX_SIGN_OFF_CHARS) & plain.str.contains(P.SIGN_OFF)).alias("sign_off"),
        )
    )
    lines = lines.with_columns(
        pl.repeat(False, lines.height, eager=True).scatter(short, flags.get_column(c)).alias(c) for c in flags.columns
    )
    lines = lines.with_columns(pl.col("web_phrase") | pl.col("web_line"))
    # (of the web text, a picture's furniture: it is rare, so its pattern runs on those lines alone)
    rows = lines.select(pl.arg_where(pl.col("web_phrase"))).to_series()
    figure = lines.select(plain.gather(rows).str.contains(P.FIGURE)).to_series()
    return lines.with_columns(pl.repeat(False, lines.height, eager=True).scatter(rows, figure).alias("figure"))


def add_title_repeat(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` with ``title_repeat``: a heading that repeats the title (the page's headline over its article).

    The title is the first content line; a page title often carries the site's name after a
    separator ("Headline | Site", "Headline - Site"), so a heading the title starts with, followed
    by such a separator, repeats it too. Needs ``plain`` with the title line as plain text.
    """
    content = pl.col("kind") == "content"
    first = content & (cum_sum_in_doc(content.cast(pl.Int32)) == 1)
    # (a heading linked to the site's home page is the site's name over every page; one linked to a page of
    # its own is a blog's post title linked to the post, or a teaser's headline, which never repeats the title)
    heading = (
        content
        & (pl.col("md_type") == md.HEADING)
        & ~pl.col("line").str.contains(_HOME_LINK)
        & (pl.col("plain").str.len_chars() >= MIN_REPEAT_CHARS)
    )
    # the titles and the headings are compared on those rows alone (a tenth of the lines): in row order a
    # document's title comes before its headings, so the title is carried down to them within the rows
    flagged = lines.select(first.alias("_first"), heading.alias("_heading"))
    rows = flagged.select(pl.arg_where(pl.col("_first") | pl.col("_heading"))).to_series()
    first, heading = pl.col("_first"), pl.col("_heading")
    key = pl.col("plain").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()
    title_key = pl.when(first).then(key).forward_fill()
    title = pl.when(first).then(pl.col("plain").str.to_lowercase()).forward_fill()
    with_site = title.str.starts_with(pl.col("plain").str.to_lowercase()) & title.str.slice(
        pl.col("plain").str.len_chars()
    ).str.contains(SITE_SEPARATOR)
    repeat = heading & ~first & (key.str.len_chars() >= MIN_REPEAT_CHARS) & ((key == title_key) | with_site)
    found = lines.select("plain").with_columns(flagged).gather(rows).select(repeat.fill_null(False)).to_series()
    return lines.with_columns(pl.repeat(False, lines.height, eager=True).scatter(rows, found).alias("title_repeat"))


def same_doc(offset: int) -> pl.Expr:
    """Whether the row ``offset`` rows away (down if negative) belongs to the same document."""
    return (pl.col("doc_id").shift(offset) == pl.col("doc_id")).fill_null(False)


def cum_sum_in_doc(value: pl.Expr) -> pl.Expr:
    """Running sum of an integer ``value`` that restarts with each document (no window: the total
    before the document's first row is carried down from that row)."""
    total = value.cum_sum()
    return total - pl.when(~same_doc(1)).then(total - value).forward_fill()


def add_units(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` with ``unit``: an ascending integer key shared by the lines of one unit.

    A unit is a paragraph (consecutive content lines), a list item, a table row, a heading or a
    line of another kind (details, publisher, related, boilerplate). As in CommonMark, a bullet item
    interrupts a paragraph; an ordered item starts a unit after a blank line or another item.
    """
    md_type, line_no = pl.col("md_type"), pl.col("line_no")
    prev_type = md_type.shift(1)
    content = pl.col("kind") == "content"
    adjacent = same_doc(1) & (line_no.shift(1) == line_no - 1)  # the line right before is the line above
    contiguous = adjacent & content & content.shift(1)
    own_line = md_type.is_in([md.HEADING, md.ITEM, md.TABLE]) | prev_type.is_in([md.HEADING, md.TABLE])
    # an ordered item starts a unit after another item only: "1) Sie schicken ..." at the start of a
    # hard-wrapped line goes on with its paragraph (stricter than CommonMark, for wrapped text)
    ordered = (md_type == md.ORDERED) & prev_type.is_in([md.ITEM, md.ORDERED])
    quote_edge = (md_type == md.QUOTE) != (prev_type == md.QUOTE)
    starts = ~contiguous | (own_line | ordered | quote_edge).fill_null(False)
    web = _web_line_alone(lines, adjacent)
    starts = starts | web | web.shift(1, fill_value=False)
    return lines.with_columns(starts.cum_sum().alias("unit"), starts.alias("unit_start"))


def _web_line_alone(lines: pl.DataFrame, adjacent: pl.Expr) -> pl.Series:
    """The lines that open with site text ("Teilen mit:", a server's error message) after a line that ended
    its sentence: a unit of their own, never part of an article's paragraph. (A hard-wrapped paragraph's last
    line "weiter." goes on from the line before; a phone number or a credit at a line's end is no such line.)"""
    # (such lines are rare: the line before is looked at for those alone)
    rows = lines.select(pl.arg_where(pl.col("web_line"))).to_series()
    before = lines.select(
        pl.col("plain").shift(1).str.slice(-_TAIL_CHARS), adjacent.fill_null(False).alias("_follows")
    ).gather(rows)
    ended = before.select(~pl.col("_follows") | pl.col("plain").str.contains(P.TERMINAL).fill_null(True)).to_series()
    return pl.repeat(False, lines.height, eager=True).scatter(rows, ended)


SUMMED = (
    "chars",
    "link_chars",
    "url_chars",
    "n_links",
    "words",
    "sample_words",
    "stops",
    "web_words",
    "recurring",
    "n_lines",
)
# of a unit's first line (a wrapped paragraph's last line "weiter." is no menu); headings only for a one-line unit
FIRST_LINE = (
    "web_phrase",
    "comments_heading",
    "comments_bare",
    "related_heading",
    "title_repeat",
    "sign_off",
    "figure",
)


def unit_features(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per unit: ``doc_id``, ``unit``, the sums of the line features (``SUMMED``), of its first line
    ``md_type``, ``kind``, ``line_no``, ``lower_start`` and, for a one-line unit, ``FIRST_LINE``; of its last
    line ``terminal`` (ends like a sentence), ``open_end`` (goes on in the next unit) and ``colon_end``.

    Sums by running totals: the total at a unit's last line minus the total before its first.
    """
    start = pl.col("unit_start")
    last = (pl.col("unit").shift(-1) != pl.col("unit")).fill_null(True)
    return (
        lines.select(
            "doc_id",
            "unit",
            "unit_start",
            "md_type",
            "kind",
            "line_no",
            *FIRST_LINE,
            *[pl.col(c).cast(pl.Int64).cum_sum().alias(f"_cum_{c}") for c in SUMMED],
            *[pl.col(c).cast(pl.Int64).alias(f"_{c}") for c in SUMMED],
            # end-anchored patterns look at the line's tail: a long paragraph costs no more than a short one
            pl.col("plain").str.slice(-_TAIL_CHARS).str.contains(P.TERMINAL).alias("terminal"),
            pl.col("plain").str.slice(-_TAIL_CHARS).str.contains(_OPEN_END).alias("open_end"),
            pl.col("plain").str.slice(-_TAIL_CHARS).str.contains(_COLON_END).alias("colon_end"),
            pl.col("plain").str.contains(P.LOWER_START).alias("lower_start"),
            last.alias("_last"),
        )
        .with_columns(
            *[
                pl.when(start).then(pl.col(f"_cum_{c}") - pl.col(f"_{c}")).forward_fill().alias(f"_base_{c}")
                for c in SUMMED
            ],
            *[
                pl.when(start).then(pl.col(c)).forward_fill().alias(c)
                for c in ("md_type", "kind", "line_no", "lower_start")
            ],
            # a phrase opening a unit marks it ("Teilen mit:" over its buttons); a heading is a unit of one line
            (pl.col("web_phrase") & start).alias("web_phrase"),
            *[(pl.col(c) & start & last).alias(c) for c in FIRST_LINE if c != "web_phrase"],
        )
        .filter("_last")
        .select(
            "doc_id",
            "unit",
            *[(pl.col(f"_cum_{c}") - pl.col(f"_base_{c}")).alias(c) for c in SUMMED],
            *[pl.col(c).cast(pl.Int64) for c in FIRST_LINE],
            "md_type",
            "kind",
            "line_no",
            "terminal",
            "open_end",
            "colon_end",
            "lower_start",
        )
    )
