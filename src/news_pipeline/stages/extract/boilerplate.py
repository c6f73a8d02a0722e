"""Find the article in a scraped page: classify each unit as article or boilerplate, column-wise.

A page is split into units (paragraphs, list items, table rows, headings; ``add_units``). Every
unit gets features that hold for German web pages in general, whatever the site: its length in
characters and words, its stop-word density (German and English function words: prose has many,
menus, tag lists and link lists few), its link density (the share of its characters inside links:
navigation is links), bare URLs, list item or heading, whether it ends like a sentence, and
whether it is generic web text (consent banners, comment forms, share, rating and subscription
prompts, bylines, picture credits, footers: ``patterns.WEB_BOILERPLATE`` and ``WEB_WORDS``).

From these each unit gets a score (``_unit_score``): its running text counts for the article,
its links count against it, web text and the headings of related lists count against it, and the
heading of a comment section after article text ends the article. The article is the run of
units with the highest sum (the densest run of article text); what lies before it (menus,
breadcrumbs, consent banners) and after it (comments, related lists, author boxes, newsletter,
footer) goes, and inside it only clear boilerplate goes (``_clear_boilerplate``). Short units are
kept inside the run and dropped outside it: a short line between article paragraphs is article,
runs of short link lines are navigation (as jusText smooths its classes by context).

Two anchors hold the run to the article: the page's headline repeated as a heading over the
article (``units.add_title_repeat``) weighs for the run that starts under it, and a standfirst right
under the title joins the run over a stretch that weighs against it (a table of linked products,
``runs.reach_back``).

Everything runs on the line frame of ``parse`` (one row per non-blank line, the rows of one
document contiguous and in order): sums over units by running totals instead of a group-by,
neighbours by guarded shifts. Windows over documents run on the unit rows only.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

from news_pipeline.stages.clean import markdown as md
from news_pipeline.stages.extract import recurring as R
from news_pipeline.stages.extract.runs import COMMENTS_COST, MIN_CORE_SCORE, best_run, reach_back
from news_pipeline.stages.extract.units import (
    FIRST_LINE,
    SUMMED,
    add_title_repeat,
    add_units,
    cum_sum_in_doc,
    line_features,
    same_doc,
    unit_features,
)

# --- thresholds ---------------------------------------------------------------------------
LENGTH_LOW = 70  # characters: a shorter unit is no paragraph of prose (jusText's length_low)
MIN_SENTENCE_WORDS = 5  # a shorter unit is prose when it ends like a sentence and has this many words
STOP_LOW = 0.20  # stop-word share (as counted here) below which a unit is no prose
# a unit that is no prose (a list entry, a table cell, a date) counts for the article by its words up to this
# much: a long line of them (an archive's month list, a tag cloud, a category menu) never outweighs paragraphs
NON_PROSE_MAX = 150
MIN_DATA_WORDS = 5  # a line without links of this many words can end the run too
LONG_LINK_WORDS = 30  # a unit of prose this long that is one link is no menu or teaser
MAX_TEASER_CHARS = 400  # prose after a headline link up to this long is that headline's teaser
# article text before a comment-section heading that makes it the end of the article: two or three sentences
# of a short post (a headline and a one-line teaser are less)
MIN_ARTICLE_CHARS = 300
# ... and before a bare "Kommentare" line (``patterns.COMMENTS_BARE``), which also stands under a lead as a jump
# link or between paragraphs as a broken subheading: more than a lead paragraph
MIN_ARTICLE_CHARS_BARE = 600
LINE_RULE_COST = 20  # a line the line rules (patterns.BOILERPLATE, related, publisher, details) took out
RELATED_COST = 400  # a related-list heading: the run spans it only for a long stretch of article after it
TITLE_ANCHOR = 800  # the headline repeated as a heading: the article starts under it (a long paragraph's worth)
MAX_BYLINE_WORDS = 12  # the line under the headline of up to so many words is its byline or date
MAX_LABEL_WORDS = 4  # a line ending in a colon of up to so many words is a label of what follows (no sentence)


def _link_density() -> pl.Expr:
    return pl.col("link_chars") / pl.col("chars").clip(1)


def _prose() -> pl.Expr:
    """Running text: function words in the share prose has, and a paragraph's length or a sentence's end."""
    long_enough = (pl.col("chars") >= LENGTH_LOW) | (pl.col("terminal") & (pl.col("words") >= MIN_SENTENCE_WORDS))
    return (pl.col("stops") / pl.col("sample_words").clip(1) >= STOP_LOW) & long_enough


def _web_text() -> pl.Expr:
    """A unit of generic web vocabulary: a phrase of it, or a tenth of its words (two at least)."""
    web_words = pl.col("web_words")
    return (pl.col("web_phrase") > 0) | ((web_words >= 2) & (web_words * 10 >= pl.col("sample_words")))


def _recurring() -> pl.Expr:
    """Every line of the unit recurs on many pages of its site (``recurring.py``): site furniture. It counts
    against the run and never as its text, but inside the run it stays (a site's generic subheading)."""
    return (pl.col("recurring") > 0) & (pl.col("recurring") == pl.col("n_lines"))


def _linked_prose() -> pl.Expr:
    """A long unit of running text that is all one link: it tells nothing either way."""
    return _prose() & (pl.col("words") >= LONG_LINK_WORDS)


def _clear_boilerplate() -> pl.Expr:
    """Units that go even inside the article's run: line-rule kinds, web text, headings of comments and related
    lists, units that are (nearly) all links, link-heavy list items and short link-heavy lines (bylines, tag lines)."""
    link_density = _link_density()
    return (
        (pl.col("kind") != "content")
        | _web_text()
        | (pl.col("comments_heading") > 0)
        | (pl.col("related_heading") > 0)
        | (((link_density >= 0.9) | ((pl.col("md_type") == md.ITEM) & (link_density > 0.5))) & ~_linked_prose())
        | ((link_density >= 0.5) & (pl.col("chars") < 100))
    )


def _unit_score() -> pl.Expr:
    """How much a unit speaks for the article around it.

    Text outside links counts for it (prose fully, other text such as table cells, dates and list
    entries by its words), text in links against it, twice: navigation and related lists are links,
    an article sentence with a link in it is mostly not. Prose right after a headline link is that
    headline's teaser (a related list) and counts for nothing, and so does a long paragraph that is
    all one link counts only by its words. Web text and the lines the line rules took out count against it; so does the
    heading of a related list (such boxes also stand inside articles: the run goes on past one only
    for a long stretch of article after it), and the heading of a comment section so much that the
    run never reaches across it.
    """
    chars, link_chars = pl.col("chars"), pl.col("link_chars")
    text_chars = chars - link_chars - pl.col("url_chars")
    # a headline link: one link, nearly all of its unit, several words (not an address), no web vocabulary
    headline_link = (
        (pl.col("n_links") == 1)
        & (link_chars >= chars * 0.9)
        & (pl.col("words") >= 4)
        & (pl.col("web_phrase") == 0)
        & (pl.col("url_chars") == 0)
    )
    # (an article's first paragraph can follow a list of headline links too: it is followed by more text)
    next_is_text = (same_doc(-1) & _prose().shift(-1) & (link_chars.shift(-1) == 0)).fill_null(False)
    teaser = (
        (same_doc(1) & headline_link.shift(1) & (chars <= MAX_TEASER_CHARS)).fill_null(False) & _prose() & ~next_is_text
    )
    return (
        # (a bare "Kommentare" line weighs as a related list's heading: it can be a jump link under the lead)
        pl.when((pl.col("comments_heading") > 0) & (pl.col("comments_bare") > 0))
        .then(-RELATED_COST)
        .when(pl.col("comments_heading") > 0)
        .then(-COMMENTS_COST)
        .when(pl.col("related_heading") > 0)
        .then(-RELATED_COST)
        # lines the line rules took out (related links, share lines, ad labels) stand inside articles
        # too: they weigh little; the comment form among them ends the article as its heading
        .when(pl.col("kind") != "content")
        .then(-LINE_RULE_COST)
        # a picture's zoom hint on a line of its own stands inside articles, next to its picture: it weighs little
        .when(pl.col("figure") > 0)
        .then(-LINE_RULE_COST)
        .when(_web_text() | _recurring())
        .then(-(chars + 30))
        .when(teaser)
        .then(0)
        # a long paragraph that is one link (a linked quote, an image's caption as link text) counts
        # by its words: article text on a page that has nothing better, never more than prose
        .when((link_chars >= chars * 0.9) & _linked_prose())
        .then(pl.col("words"))
        .otherwise(
            pl.when(_prose())
            .then(text_chars)
            .otherwise(pl.min_horizontal(text_chars // 2, pl.col("words") * 3, NON_PROSE_MAX))
            # a sentence with a link or two in it (a credit, a source) is article text: its links
            # weigh only when they are most of it
            - pl.when(_prose() & (link_chars * 2 < chars)).then(0).otherwise(2 * link_chars)
            - pl.when(link_chars * 2 >= chars).then(10).otherwise(0)
        )
    )


def _scored(units: pl.DataFrame) -> pl.DataFrame:
    """``units`` with ``score`` (``_unit_score``; 0 for the title, ``TITLE_ANCHOR`` for the headline repeated
    over the article), ``_i`` (the unit's row) and ``title`` (the first content unit)."""
    content = pl.col("kind") == "content"
    # the links of a related list under its heading: the heading weighs for the whole box (the run spans a box
    # inside an article for the article after it; one at the article's end stays out by its heading)
    linkish = (pl.col("link_chars") * 2 >= pl.col("chars")) & (pl.col("related_heading") == 0)
    box = cum_sum_in_doc((~linkish).cast(pl.Int64))
    in_box = linkish & (pl.col("related_heading").first().over("doc_id", box) > 0)
    u = units.with_columns(
        pl.when(in_box).then(0).otherwise(_unit_score()).cast(pl.Int64).alias("score"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"),
        (content & (cum_sum_in_doc(content.cast(pl.Int64)) == 1)).alias("title"),
    )
    return u.with_columns(
        pl.when(pl.col("title"))
        .then(0)
        .when(pl.col("title_repeat") > 0)
        .then(TITLE_ANCHOR)
        # the line under the headline is its byline or date: its links (author, section) tell nothing
        .when(
            (same_doc(1) & (pl.col("title_repeat").shift(1) > 0)).fill_null(False)
            & (pl.col("words") <= MAX_BYLINE_WORDS)
            & (pl.col("comments_heading") == 0)
            & (pl.col("related_heading") == 0)
        )
        .then(pl.col("score").clip(lower_bound=0))
        .otherwise(pl.col("score"))
        .alias("score")
    )


def select_article(units: pl.DataFrame) -> pl.DataFrame:
    """``units`` with ``keep`` and, for the units that go, ``rule``: which rule took them out.

    The run is the stretch of units with the highest sum of ``_unit_score`` (the maximum subarray,
    from running sums and their running minimum), trimmed to its first and last unit of article
    text. Inside it only clear boilerplate goes (``_clear_boilerplate``). The title (the first
    content unit) is kept apart: it is kept and neither starts nor ends the run.
    """
    score = pl.col("score")
    u = _scored(units)
    # A comment section after article text ends the page's article: what follows is comments
    # (prose too, often more of it than the article) and the rest of the page. One before any
    # article text (a scraper that put the comments first) only keeps the run from crossing it.
    # (the headline's anchor is no article text: a comment count right under it opens no comments)
    positive = pl.when(pl.col("title_repeat") > 0).then(0).otherwise(score.clip(lower_bound=0))
    article_before = cum_sum_in_doc(positive) - positive
    needed = pl.when(pl.col("comments_bare") > 0).then(MIN_ARTICLE_CHARS_BARE).otherwise(MIN_ARTICLE_CHARS)
    comments_start = ((pl.col("comments_heading") > 0) & (article_before >= needed)).cast(pl.Int64)
    u = u.with_columns((cum_sum_in_doc(comments_start) > 0).alias("_after_comments"))
    u = u.with_columns(pl.when(pl.col("_after_comments")).then(-COMMENTS_COST).otherwise(score).alias("score"))
    u = reach_back(best_run(u))
    i = pl.col("_i")
    in_run = (i >= pl.col("_start")) & (i <= pl.col("_end")) & (pl.col("_best") > 0)
    clear_boilerplate = _clear_boilerplate()
    # The run is trimmed to its first and last unit of article text or sentence: a date, a byline
    # or the heading of the next section is no article (a heading right before the first one stays).
    # (a line of data such as "Verbrauch kombiniert: 4,8 Liter auf 100 km" ends an article too; a heading,
    # a link line, a label of a few words, or site furniture does not)
    data_line = (pl.col("md_type") != md.HEADING) & (pl.col("link_chars") == 0) & (pl.col("words") >= MIN_DATA_WORDS)
    # (a label, a few words ending in a colon, introduces what follows: on its own, as the first or last
    # text of the run, it introduces something that went, a share bar, a list of sources or of other articles)
    label = pl.col("colon_end") & (pl.col("words") <= MAX_LABEL_WORDS)
    repeat = pl.col("title_repeat") > 0
    core = ((score >= MIN_CORE_SCORE) | pl.col("terminal") | data_line) & ~_recurring() & ~label & ~repeat
    u = u.with_columns((in_run & core & ~clear_boilerplate).alias("_core"), in_run.alias("_in_run"))
    cores = u.filter("_core").group_by("doc_id").agg(i.min().alias("_first"), i.max().alias("_last"))
    u = u.join(cores, on="doc_id", how="left", maintain_order="left")
    heading_before = (pl.col("md_type") == md.HEADING) & (i == pl.col("_first") - 1)
    in_core = (((i >= pl.col("_first")) & (i <= pl.col("_last"))) | heading_before).fill_null(False)
    # (the other items of a list the first or last unit of text belongs to are the article's too: a list's
    # last entries are too short to end the run themselves)
    in_core = in_core | _same_list_as_edge(u)
    # a piece of a paragraph that layout broke off the first or last unit of text stays with it
    # (a unit goes on when it ends open, or is a long one without end punctuation, as parse.join_broken_blocks judges)
    goes_on = (pl.col("open_end") | ~pl.col("terminal")) & same_doc(-1)
    follows = (goes_on.shift(1) | pl.col("lower_start")) & same_doc(1)
    kept = pl.col("_in_run") & in_core
    # (list items, table rows and headings are never pieces of a paragraph; site furniture never joins it)
    piece = ~pl.col("md_type").is_in([md.ITEM, md.TABLE, md.HEADING]) & ~_recurring()
    attached = piece & ((goes_on & kept.shift(-1)).fill_null(False) | (follows & kept.shift(1)).fill_null(False))
    keep = pl.col("title") | ((kept | attached) & ~clear_boilerplate & ~repeat) | _linked_lead() | _sign_off()
    return u.with_columns(keep.alias("keep"), _removal_rule(keep, (kept | attached) & clear_boilerplate).alias("rule"))


def _linked_lead() -> pl.Expr:
    """A sentence that is a link (an image's caption as its link text, a quote linked to its source) right
    before the article's first unit of text: it opens the article (links count against a unit, so such a
    sentence never starts the run itself)."""
    return (
        (pl.col("_i") == pl.col("_first") - 1)
        & _prose()
        & pl.col("terminal")
        & (pl.col("kind") == "content")
        & ~_web_text()
        & ~_recurring()
        & (pl.col("comments_heading") == 0)
        & (pl.col("related_heading") == 0)
        & ~pl.col("title")
    ).fill_null(False)


def _sign_off() -> pl.Expr:
    """A blog post's or a column's sign-off ("Euer Max", "Liebe Grüße, Anna") right after the article's last unit
    of text: it closes the article (a greeting and a name are too short to end the run themselves)."""
    return (
        (pl.col("_i") == pl.col("_last") + 1)
        & (pl.col("sign_off") > 0)
        & (pl.col("kind") == "content")
        & (pl.col("link_chars") == 0)
        & ~_web_text()
    ).fill_null(False)


def _same_list_as_edge(u: pl.DataFrame) -> pl.Series:
    """The list items without links of the list the article's first or last unit of text is an item of."""
    item = pl.col("md_type") == md.ITEM
    i = pl.col("_i")
    lists = u.select(
        item.alias("_item"),
        (~(item & item.shift(1) & same_doc(1)).fill_null(False)).cum_sum().alias("_list"),
        ((i == pl.col("_first")) | (i == pl.col("_last"))).fill_null(False).alias("_edge"),
        (pl.col("link_chars") == 0).alias("_no_links"),
    )
    edge_lists = lists.filter(pl.col("_item") & pl.col("_edge")).get_column("_list")
    return lists.select(pl.col("_item") & pl.col("_no_links") & pl.col("_list").is_in(edge_lists.implode())).to_series()


def _removal_rule(keep: pl.Expr, in_article_links: pl.Expr) -> pl.Expr:
    """The rule that took a unit out (null for the units kept), for the counts of what was removed."""
    return (
        pl.when(keep)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("kind") != "content")
        .then(pl.col("kind"))
        .when(pl.col("title_repeat") > 0)
        .then(pl.lit("title_repeat"))
        .when(_web_text())
        .then(pl.lit("web_text"))
        .when((pl.col("comments_heading") > 0) | (pl.col("related_heading") > 0))
        .then(pl.lit("section_heading"))
        .when(pl.col("_after_comments"))
        .then(pl.lit("comments"))
        .when(in_article_links)
        .then(pl.lit("links"))
        .when(_recurring())
        .then(pl.lit("recurring"))
        .when(pl.col("_in_run"))
        .then(pl.lit("run_edge"))
        .when((pl.col("_best") <= 0) | (pl.col("_i") < pl.col("_start")))
        .then(pl.lit("before_article"))
        .otherwise(pl.lit("after_article"))
    )


def _no_article_reason(units: pl.DataFrame) -> pl.DataFrame:
    """``doc_id`` and ``no_article``: a sentence for the documents with a headline and no article text after it."""
    content = (pl.col("kind") == "content") & ~pl.col("title")
    per_doc = units.group_by("doc_id").agg(
        pl.col("title").any().alias("_title"),
        (pl.col("keep") & content).sum().alias("_kept"),
        content.sum().alias("_units"),
        (content & (pl.col("link_chars") * 2 >= pl.col("chars"))).sum().alias("_links"),
        (content & _web_text()).sum().alias("_web"),
        (content & _prose()).sum().alias("_prose"),
    )
    reason = (
        pl.when(pl.col("_units") == 0)
        .then(pl.lit("no_article_text: the page has a headline and no text after it"))
        .otherwise(
            pl.format(
                "no_article_text: no run of article text follows the headline; of the page's {} other text blocks {} "
                "are mostly links (menus, link lists), {} are site text (consent, login, comment or subscription "
                "forms) and {} are paragraphs of running text",
                "_units",
                "_links",
                "_web",
                "_prose",
            )
        )
    )
    return per_doc.filter(pl.col("_title") & (pl.col("_kept") == 0)).select("doc_id", reason.alias("no_article"))


def _recurring_lines(
    lines: pl.DataFrame, sites: pl.DataFrame, history: pl.DataFrame | None, min_docs: int
) -> tuple[pl.Series, pl.DataFrame]:
    """Per line of ``lines``: whether it recurs with ``min_docs`` headlines of its site in this batch (and
    ``history``); and this batch's own line counts (``recurring.line_counts``)."""
    content = pl.col("kind") == "content"
    titles = lines.filter(content).group_by("doc_id").agg(pl.col("plain").first().alias("_title"))
    keyed = (
        lines.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
        .filter(content)
        .join(sites, on="doc_id", how="inner")
        .join(titles.with_columns(plh.col("_title").nchash.xxhash64().alias("title_hash")), on="doc_id")
        .select("_row", "doc_id", "site", "title_hash", pl.col("plain").alias("text"))
    )
    hashed = R.hash_lines(keyed)
    own = R.line_counts(hashed)
    flagged = R.flag_recurring(hashed, R.merge_counts(history, own), min_docs).filter("recurring")
    return pl.repeat(False, lines.height, eager=True).scatter(flagged["_row"], True), own


def _removed_per_doc(units: pl.DataFrame, markup: pl.DataFrame) -> pl.DataFrame:
    """Per document ``removed`` (per rule, blocks and characters taken out) and ``no_article``."""
    removed = pl.concat(
        [
            units.filter(pl.col("rule").is_not_null())
            .group_by("doc_id", "rule")
            .agg(pl.len().cast(pl.Int64).alias("blocks"), pl.col("chars").sum().cast(pl.Int64).alias("chars")),
            markup,
        ]
    )
    return (
        removed.sort("doc_id", "rule")
        .group_by("doc_id", maintain_order=True)
        .agg(pl.struct("rule", "blocks", "chars").alias("removed"))
        .join(_no_article_reason(units), on="doc_id", how="full", coalesce=True)
    )


def remove_boilerplate(
    lines: pl.DataFrame,
    sites: pl.DataFrame | None = None,
    history: pl.DataFrame | None = None,
    min_docs: int = R.MIN_DOCS,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The labelled lines of ``parse.label_lines`` with the article found, what was removed, and line counts.

    Returns ``lines`` with ``plain`` (the line as plain text, see ``markdown.add_plain``), ``md_type``
    and ``unit``, where the ``kind`` of every content line outside the article is ``removed``; and
    per document ``doc_id``, ``no_article`` (a quarantine reason, or null) and ``removed``: a list of
    ``rule``, ``blocks``, ``chars`` (what each rule took out; the line rules' kinds count too).

    With ``sites`` (``doc_id``, ``site``), a short line that recurs with ``min_docs`` or more
    headlines of its site, in this batch and in the counts ``history`` (``recurring.line_counts``),
    weighs against the article as site furniture. The third frame is this batch's own line counts
    (empty without ``sites``), for the partition's bookkeeping.
    """
    lines = md.add_plain(lines, mark_links=True)
    # the first content line is the title: it keeps its characters (a "*" in a headline is one)
    content = pl.col("kind") == "content"
    lines = lines.with_columns(
        pl.when(content & (cum_sum_in_doc(content.cast(pl.Int32)) == 1))
        .then(md.title_to_plain(pl.col("line")))
        .otherwise(pl.col("plain"))
        .alias("plain")
    )
    # lines without a letter or digit (an image, a rule, a table separator, a bullet alone) go first
    empty = content & ~pl.col("plain").str.contains(r"[\p{L}\p{N}]")
    markup = (
        lines.filter(empty)
        .group_by("doc_id")
        .agg(
            pl.lit("markup").alias("rule"),
            pl.len().cast(pl.Int64).alias("blocks"),
            pl.col("line").str.len_chars().sum().cast(pl.Int64).alias("chars"),
        )
    )
    lines = add_title_repeat(lines.filter(~empty))
    if sites is not None:
        recurring, own_counts = _recurring_lines(lines, sites, history, min_docs)
    else:
        recurring, own_counts = pl.repeat(False, lines.height, eager=True), pl.DataFrame(schema=R.COUNTS_SCHEMA)
    lines = lines.with_columns(recurring.alias("recurring"), pl.lit(1, dtype=pl.Int64).alias("n_lines"))
    lines = lines.pipe(line_features).pipe(add_units)
    units = select_article(unit_features(lines))
    # units are numbered 1, 2, ... in line order: a unit's row is its number minus one
    kept = units["keep"].gather(lines["unit"] - 1)
    lines = lines.with_columns(
        pl.when(content & ~pl.lit(kept)).then(pl.lit("removed")).otherwise(pl.col("kind")).alias("kind")
    ).drop("unit_start", "web_line", *SUMMED, *FIRST_LINE)
    per_doc = _removed_per_doc(units, markup)
    return lines, per_doc, own_counts
