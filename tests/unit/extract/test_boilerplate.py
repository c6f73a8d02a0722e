"""Finding the article in a page (news_pipeline.boilerplate): each rule on small made-up pages."""

from __future__ import annotations

import polars as pl

from news_pipeline.stages.extract.articles import extract_articles
from news_pipeline.stages.language import detect_language

# made-up article paragraphs (long enough to be running text)
P1 = (
    "Die Gemeinde Beispieldorf hat am Dienstag beschlossen, die alte Schule am Marktplatz zu einem Bürgerhaus "
    "umzubauen. Der Gemeinderat stimmte dem Vorhaben mit großer Mehrheit zu, nachdem die Kosten im Herbst "
    "noch einmal geprüft worden waren."
)
P2 = (
    "Nach den Plänen des Architekturbüros sollen im Erdgeschoss ein Saal für Vereine und eine kleine Bücherei "
    "entstehen. Im ersten Stock sind Räume für die Musikschule vorgesehen, die bisher in einem Container "
    "untergebracht ist."
)
P3 = (
    "Die Bauarbeiten sollen im kommenden Frühjahr beginnen und etwa zwei Jahre dauern. Während dieser Zeit "
    "weichen die Vereine in die Turnhalle aus, teilte die Bürgermeisterin mit."
)
MENU = "\n".join(
    f"* [{w}](https://www.dorfblatt-beispiel.de/{w.lower()})"
    for w in ["Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Region", "Service"]
)
FOOTER = "[Impressum](/impressum) | [Datenschutz](/datenschutz) | [Kontakt](/kontakt) | [AGB](/agb)"


def _extract(*texts: str) -> list[dict]:
    df = pl.DataFrame({"doc_id": [str(i) for i in range(len(texts))], "raw_text": list(texts)})
    return extract_articles(df).iter_rows(named=True)


def _one(text: str) -> dict:
    return next(iter(_extract(text)))


def _page(*blocks: str) -> str:
    return "\n\n".join(("Altes Schulhaus wird Bürgerhaus", *blocks)) + "\n"


def test_menus_before_and_footer_after_the_article_go():
    row = _one(_page(MENU, P1, P2, P3, FOOTER))
    assert row["body"].split("\n\n") == [P2, P3] and row["teaser"] == P1
    removed = {r["rule"]: (r["blocks"], r["chars"]) for r in row["removed"]}
    # "Startseite" is web vocabulary, the other menu items go as what precedes the article
    assert removed == {
        "web_text": (1, 10),
        "before_article": (6, 41),
        "after_article": (1, len("Impressum | Datenschutz | Kontakt | AGB")),
    }
    assert row["no_article"] is None


def test_a_consent_banner_goes():
    banner = (
        "Diese Website verwendet Cookies, um Ihnen ein besseres Nutzungserlebnis zu bieten. Mit der weiteren "
        "Nutzung stimmen Sie der Verwendung von Cookies zu."
    )
    row = _one(_page(banner, "Alle akzeptieren", "Einstellungen", P1, P2, P3))
    assert "Cookies" not in (row["teaser"] or "") + row["body"]
    assert P3 in row["body"]


# made-up lines of the kinds German sites put into their articles' text: prompts, disclosures, notices
SITE_LINES = [
    "Bitte loggen Sie sich vor dem Kommentieren ein",
    "Verpasse keine News zu Haus & Garten",
    "Ihr Warenkorb ist leer",
    "Vervielfältigung nur mit Genehmigung des Dorfblatts",
    "Anzeige, enthält Affiliate Links",
    "Für Links auf dieser Seite erhält das Dorfblatt ggf. eine Provision",
    "Ein Blogger gefällt das",
    "Bitte registrieren Sie sich und beachten Sie unsere Netiquette.",
    "Gib deine E-Mail-Adresse ein",
    "(Noch keine Bewertungen)",
    "Möchten Sie den Artikel teilen?",
    "Dieser Text wurde am 3. Mai 2024 veröffentlicht.",
    "Wenn Sie diesen Beitrag kommentieren möchten, schreiben Sie uns.",
    "Die Texte auf dieser Webseite stehen unter einer Creative-Commons-Lizenz.",
    "Der Dorfblatt-Newsletter",
    "Mo Di Mi Do Fr Sa So",
    "1 2 3 4 5 6 7",
    "Artikel gefallen? Dann teile ihn mit deinen Freunden!",
    "Schlagworte",
    "Dieses Interview als PDF herunterladen",
    "Die Feuerwehr bei der Übung am Samstag. (Foto: Dorfblatt)",
    "Die Feuerwehr bei der Übung am Samstag. Foto: Privat",
    "Vergrößern Das neue Bürgerhaus am Marktplatz",
    "Die neue Ausgabe jetzt am Kiosk, im Abo oder als E-Paper.",
    "Der Artikel wurde erfolgreich in den Warenkorb gelegt.",
    "ANZEIGE - Schon ans Wochenende gedacht? Wie wäre es mit:",
    "Video verfügbar bis 31.12.2030",
    "Es werden die Artikel 1 bis 20 von insgesamt 57 angezeigt",
    "Schreibt seit 2015 für das Dorfblatt. Beschäftigt sich mit Verkehr und Bauen.",
    "Sie müssen sich anmelden, um einen Kommentar zu schreiben.",
    "Cookies erleichtern die Bereitstellung unserer Dienste.",
    "Benachrichtigungen aktivieren",
    "Unterstützen Sie unsere Arbeit mit einer Spende!",
    "Dieser Gastbeitrag gibt die Meinung des Autors wieder, nicht die der Redaktion.",
    "Mit der Anmeldung erklären Sie sich damit einverstanden, dass wir Ihnen E-Mails senden.",
    "Mit dem Absenden willige ich ein, dass mir das Dorfblatt Angebote schickt.",
    "Das neue Bürgerhaus im Modell. Zum Vergrößern auf das Bild klicken.",
    "Rathaus Beispieldorf, Tel.: (0123) 45 67 89",
    "Bitte aktivieren Sie JavaScript in Ihrem Browser, um das Formular zu nutzen.",
    "Ihr Browser unterstützt keine eingebetteten Videos.",
    "Die technische Speicherung oder der Zugriff ist für den Betrieb der Seite erforderlich.",
    "Auf unserer Website werden Cookies eingesetzt, um sie benutzerfreundlich zu gestalten.",
    "Durch das Aktivieren der Social-Media-Buttons können Daten an die Netzwerke gehen.",
    "Ja, ich möchte per E-Mail über Neuigkeiten aus Beispieldorf informiert werden.",
    "Als Spam melden",
    "Themen Kategorie auswählen Allgemein Bauen Feste Vereine Verkehr",
    "Passwort vergessen?",
    "Bitte füllen Sie alle Pflichtfelder aus.",
    "Diese E-Mail-Adresse ist bereits bei uns registriert.",
    "Ihre Registrierung war erfolgreich.",
    "Neues Konto anlegen",
    "Einloggen",
    "Dein Browser ist leider veraltet.",
    "Für die volle Darstellung brauchst du einen aktuellen Browser.",
    "%d Bloggern gefällt das:",
    "This entry was posted in Allgemein by Redaktion.",
    "Wie siehst du das? Schreib doch einen Kommentar!",
    "Vorheriges Weiter",
    "Die aktuelle Ausgabe",
    "Siehe auch: Neue Schule für Beispieldorf",
    "Bild anzeigen Bild schließen",
    "Dieser Beitrag stammt aus Ausgabe 3/2024 des Dorfblatt-Magazins.",
    "Mit dem Absenden des Formulars stimme ich der Speicherung meiner Daten zu.",
    "Bankverbindung: Sparkasse Beispieldorf",
    "Dorfblatt Newsletter",
    "Service-Hotline: 0123 - 456 789",
    "Der Marktplatz am Abend (Symbolbild).",
    "Versandkostenfrei ab 50 Euro Bestellwert",
    "Das Dorfblatt lesen oder verschenken!",
    "Nichts mehr verpassen!",
    "Lena M. Antwort abbrechen",
    "Der Marktplatz im Frühling, Bild via Dorfblatt",
    "Der Rathausplatz nach dem Umbau. Foto: Gemeinde/cc by 2.0",
    "3. Mai 2024, 9:40 Uhr, Anna Beispiel 12 Kommentare",
    "Pressekontakt:",
    "Pressesprecherin Anna Beispiel",
    "3. Mai 2024 getaggt mit: Bürgerhaus, Schule",
    "Um den Beitrag kommentieren zu können, müssen Sie angemeldet sein.",
    "Du musst angemeldet sein, um einen Kommentar abzugeben.",
    "Rezept favorisieren",
    "Die folgenden Links öffnen in einem neuen Fenster",
    'Dies ist Teil 2 zum Text "Die Schule im Dorf" von Anna Beispiel.',
    "Lesen Sie hier den ersten Teil",
    "Mit diesem Button kannst du die Folge in deine Playlist legen.",
    "Dieser Text entspricht den Vorgaben der Fachgesellschaften und wurde von Ärzten geprüft.",
]


def test_site_lines_inside_the_article_go():
    for line in SITE_LINES:
        row = _one(_page(P1, P2, line, P3))
        assert line not in row["body"], line
        assert P3 in row["body"]


def test_a_phrase_of_site_text_in_a_link_with_padded_text_goes():
    # "[ Vergrößern ](…)" keeps the spaces inside its brackets: the zoom button over a caption is still one
    row = _one(_page(P1, P2, "[ Vergrößern ](/bilder/modell.jpg) Das neue Bürgerhaus im Modell.", P3))
    assert "Bürgerhaus im Modell" not in row["body"] and P3 in row["body"]


def test_a_wordpress_reply_form_ends_the_article():
    comment = "Ich finde das Bürgerhaus eine sehr gute Idee, die Musikschule braucht schon lange neue Räume im Ort."
    row = _one(_page(P1, P2, P3, "Hinterlasse eine Antwort", comment))
    assert "Musikschule braucht" not in row["body"]


def test_a_comment_section_ends_the_article():
    comments = [
        "2 Kommentare",
        "**Leser123** schrieb am 3. März:",
        "Ich finde es richtig, dass die alte Schule erhalten bleibt, auch wenn es teuer wird und die Vereine "
        "lange warten müssen. Hoffentlich bleibt der Zeitplan.",
        "Schreibe einen Kommentar",
        "Name *",
        "E-Mail *",
    ]
    row = _one(_page(P1, P2, P3, *comments))
    assert row["body"].endswith(P3)
    assert "Ich finde es richtig" not in row["body"]


def test_a_related_list_after_the_article_goes_but_a_box_inside_it_does_not_end_it():
    related = [
        "Das könnte Sie auch interessieren",
        "[Neuer Kindergarten eröffnet in Beispieldorf](/kita)",
        "[Straßenfest am Wochenende: Das Programm](/fest)",
    ]
    row = _one(_page(P1, P2, P3, *related))
    assert "Kindergarten" not in row["body"] and "Das könnte Sie" not in row["body"]
    long_p = P2 + " " + P3 + " " + P2
    inside = _one(_page(P1, P2, "Lesen Sie auch", "[Neuer Kindergarten eröffnet in Beispieldorf](/kita)", long_p))
    assert inside["body"].endswith(long_p)


def test_a_box_of_several_related_links_inside_the_article_does_not_end_it():
    # the heading weighs for the box: its links do not add to it, and the article goes on after it
    links = [f"[Neues aus dem Ortsteil {n}: Der Bericht]({n})" for n in ("Nord", "Süd", "Ost", "West")]
    rest = [
        P2.replace("Erdgeschoss", "Keller"),
        P3.replace("Frühjahr", "Sommer"),
        "Die Kosten von rund zwei Millionen Euro trägt die Gemeinde allein.",
    ]
    row = _one(_page(P1, P2, P3, "Das könnte Sie auch interessieren", *links, *rest))
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert text.startswith(P1) and text.endswith("\n\n".join(rest))
    assert "Ortsteil" not in text and "interessieren" not in text


def test_a_more_on_the_site_heading_opens_a_related_list():
    teaser = "Der Sportverein feiert sein hundertjähriges Bestehen mit einem großen Fest auf dem Sportplatz."
    row = _one(_page(P1, P2, P3, "Mehr Reportagen auf Dorfblatt.de:", teaser))
    assert "Sportverein" not in row["body"] and row["body"].endswith(P3)


def test_a_sentence_about_a_part_or_a_window_is_article_text():
    sentence = "Dies ist der erste Teil des Plans, sagte die Bürgermeisterin am Abend im Rathaus."
    assert sentence in _one(_page(P1, P2, sentence, P3))["body"]
    # ... and so is one about windows that open
    sentence = "Um sieben Uhr öffnet Fenster und Türen der Hausmeister, dann kommen die Vereine."
    assert sentence in _one(_page(P1, P2, sentence, P3))["body"]


def test_a_list_of_sources_and_a_series_box_after_the_article_go():
    sources = [
        "Quellenangaben:",
        "1 Statistisches Landesamt (2021): Schulbauten im Land, abrufbar unter https://www.beispiel-amt.de/schulen.",
        "2 Gemeinde Beispieldorf (2022): Sitzungsprotokoll des Gemeinderats vom 14. März.",
    ]
    row = _one(_page(P1, P2, P3, *sources))
    assert row["body"].endswith(P3) and "Quellenangaben" not in row["body"]
    series = ["Über diese Reihe", "Die Reihe stellt jede Woche ein Bauprojekt aus der Region vor."]
    row = _one(_page(P1, P2, P3, *series))
    assert row["body"].endswith(P3) and "Reihe" not in row["body"]
    # a sentence that starts with the word is article text
    quote = "Quellen aus dem Rathaus zufolge soll die Bücherei schon im Herbst öffnen."
    assert _one(_page(P1, P2, quote, P3))["body"].split("\n\n")[1] == quote


def test_a_short_line_between_article_paragraphs_stays():
    row = _one(_page(P1, P2, "Wie geht es weiter?", P3, "Das ist noch offen.", P2))
    assert "Wie geht es weiter?" in row["body"].split("\n\n")
    assert "Das ist noch offen." in row["body"].split("\n\n")


def test_runs_of_short_link_lines_are_navigation_even_between_text():
    links = "\n".join(f"[Ressort {i}](/r{i})" for i in range(8))
    row = _one(_page(P1, P2, P3, links, "Ein kurzer Satz ganz am Ende der Seite."))
    assert "Ressort" not in row["body"]


def test_a_page_without_article_text_says_so():
    index = _page(MENU, FOOTER, "\n".join(f"* [Meldung {i}: Neues aus dem Dorf](/m{i})" for i in range(12)))
    row = _one(index)
    assert row["no_article"].startswith("no_article_text: ")
    assert "mostly links" in row["no_article"]


def test_the_teaser_never_eats_the_article():
    row = _one(_page(P1))
    assert row["teaser"] is None and row["body"] == P1
    short = _one(_page(P1, "Die Kosten trägt das Land."))
    assert short["teaser"] is None and short["body"] == P1 + "\n\n" + "Die Kosten trägt das Land."


def test_language_is_identified_on_the_cleaned_article():
    english_menu = "\n".join(
        f"* [{w}](/{w.lower()})"
        for w in ["Home", "News and Reports", "About us", "Contact the team", "Privacy policy", "Terms of use"]
    )
    english_footer = (
        "This website uses cookies to improve your experience. By continuing to browse the site you agree "
        "to our use of cookies and to our terms of service and privacy policy."
    )
    df = extract_articles(
        pl.DataFrame({"doc_id": ["x"], "raw_text": [_page(english_menu, P1, P2, P3, english_footer)]})
    )
    assert "cookies" not in df["body"][0]
    assert detect_language(df)["language"][0] == "de"


def test_language_is_identified_on_the_articles_prose_not_its_opening_lines():
    # a body that opens with lines in no language (a list of English titles, a ticker) before its prose
    opening = (
        "01. Morning Over The Harbour 02. Paper Boats 03. Seven Lanterns 04. Quiet Engines 05. Slow Parade "
        "06. Copper Sky 07. Northern Line 08. Glass Orchard 09. Winter Radio 10. The Long Weekend "
        "11. Salt And Cedar 12. Holding Pattern 13. Red Balloon Street 14. Every Open Door"
    )
    ticker = "DAX 1234.56 -0.12% BEISPIEL AG 12.34 -0.5% MUSTER BANK 56.78 +1.02% MODELL WERKE 9.87 +0.33% XYZ 40.1"
    df = pl.DataFrame({"body": [f"{opening}\n\n{ticker}\n\n{P1}\n\n{P2}", opening]})
    assert detect_language(df)["language"].to_list() == ["de", "en"]


def test_an_opening_in_another_language_is_checked_on_more_of_the_text():
    # a German article that opens with a long English caption (names and job titles) is German; an English
    # article stays English
    caption = (
        "From left to right: the project manager for concept development of the turbine maker, the deputy "
        "director of the research institute, the vice president for global engineering, the managing director "
        "of the institute and the head of the grid integration group at the opening of the new test bench in "
        "the harbour hall on Tuesday afternoon"
    )
    english = (
        "The council of the small town voted on Tuesday to turn the old school on the market square into a "
        "community centre. The plans include a hall for clubs, a small library and rooms for the music school, "
        "which has been working from a container for years. Building work is due to start next spring."
    )
    df = pl.DataFrame({"body": [f"{caption}\n\n{P1}\n\n{P2}\n\n{P3}", f"{english}\n\n{english}"]})
    assert detect_language(df)["language"].to_list() == ["de", "en"]


def test_removed_counts_add_up_per_rule():
    row = _one(_page(MENU, P1, P2, P3, FOOTER))
    menu_chars = sum(len(w) for w in ["Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Region", "Service"])
    menu = [r for r in row["removed"] if r["rule"] in ("before_article", "web_text")]
    assert sum(r["blocks"] for r in menu) == 7 and sum(r["chars"] for r in menu) == menu_chars


def test_the_standfirst_above_a_table_of_linked_products_stays():
    # an intro under the headline, a table whose rows link to the products, then the article
    table = "\n".join(
        ["| Modell | Preis | Note |", "|---|---|---|"]
        + [f"| [Beispielgerät {n} Komfort Plus](https://shop.example/{n}) | {n}0 € | 2,{n} |" for n in range(1, 9)]
    )
    row = _one(_page(P1, table, P2, P3))
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert P1 in text and P2 in text and P3 in text
    assert "Beispielgerät" not in text


def test_text_further_down_before_a_menu_is_not_reached_back_to():
    # a site's blurb above a long menu is no standfirst: only text right under the title is
    blurb = P3.replace("Die Bauarbeiten", "Unser Dorfblatt berichtet seit 1950 über alles, was im Dorf geschieht;")
    long_menu = "\n".join(f"* [{w} {n}](https://www.dorfblatt-beispiel.de/{n})" for n in range(30) for w in ["Rubrik"])
    row = _one(_page("Startseite", "Politik", "Sport", "Region", blurb, long_menu, P1, P2))
    assert "Unser Dorfblatt" not in (row["teaser"] or "") + (row["body"] or "")


def test_a_label_left_at_the_end_of_the_article_goes():
    for label in (
        "Mehr Themen:",
        "Quellenangaben:",
        "Das Thema könnte dich auch interessieren:",
        "Mehr über Beispieldorf",
    ):
        row = _one(_page(P1, P2, P3, label))
        assert label not in row["body"], label
    # a sentence that ends in a colon is article text
    sentence = "Die Unterlagen zur Sitzung des Gemeinderats finden Sie hier:"
    assert sentence in _one(_page(P1, P2, P3, sentence))["body"]


# after the footer, more prose than the article has: another article's opening in a box of the page
OTHER = "\n\n".join(
    f"Im Nachbarort Musterhausen hat der Sportverein zum {n}. Mal sein Sommerfest gefeiert, zu dem wieder "
    "viele Familien aus der ganzen Umgebung gekommen sind, obwohl es am Nachmittag kräftig geregnet hat."
    for n in range(1, 4)
)
FOOTER_MENU = "\n".join(f"* [Rubrik {n}](https://www.dorfblatt-beispiel.de/rubrik-{n})" for n in range(1, 41))


def test_the_headline_repeated_over_the_article_anchors_it():
    # whole-page text: the page title (with the site's name), menu, the headline as a heading, the article,
    # a footer menu, then more prose than the article has (without the headline, that would be taken)
    page = "\n\n".join(
        [
            "Altes Schulhaus wird Bürgerhaus | Dorfblatt",
            MENU,
            "# Altes Schulhaus wird Bürgerhaus",
            P1,
            P2,
            FOOTER_MENU,
            OTHER,
        ]
    )
    row = _one(page + "\n")
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert P1 in text and P2 in text
    assert "Musterhausen" not in text
    # the repeated headline is the title's, not the body's
    assert "Altes Schulhaus wird Bürgerhaus" not in text
    assert {r["rule"] for r in row["removed"]} >= {"title_repeat"}


def test_a_linked_byline_under_the_repeated_headline_does_not_hide_a_short_article():
    # the line under the headline is its byline: its links (author, section) tell nothing about what follows
    facts = ["Termin: Samstag ab 14 Uhr.", "Treffpunkt: vor dem Rathaus.", "Eintritt: frei.", "Bei Regen: Halle."]
    byline = "Von [Anna Beispiel](https://www.dorfblatt-beispiel.de/autoren/anna), [Dorfblatt Region](/region)"
    page = "\n\n".join(["Straßenfest am Marktplatz | Dorfblatt", MENU, "# Straßenfest am Marktplatz", byline, *facts])
    row = _one(page + "\n")
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert all(fact in text for fact in facts) and row["no_article"] is None
    assert "Anna Beispiel" not in text


def test_a_line_of_site_text_is_never_part_of_a_paragraph():
    # a server's error message printed on the line above a paragraph goes, and the paragraph stays
    error = "Warning: Undefined variable $autor in /var/www/html/artikel.php on line 12"
    row = _one(_page(P1, error + "\n" + P2, P3))
    assert P2 in row["body"] and "Undefined variable" not in row["body"]
    # a hard-wrapped paragraph whose last line is a word of site vocabulary ("weiter.") stays whole
    wrapped = "Die Bauarbeiten am Bürgerhaus gehen nach der Winterpause im März\nweiter."
    row = _one(_page(P1, P2, wrapped, P3))
    assert "im März weiter." in row["body"]


def test_a_linked_heading_is_no_anchor():
    # the site's name as a linked heading on every page is no headline
    page = "\n\n".join(["Dorfblatt Beispieldorf", "# [Dorfblatt Beispieldorf](/)", MENU, P1, P2, P3])
    row = _one(page + "\n")
    assert "title_repeat" not in {r["rule"] for r in row["removed"]}
    assert P3 in row["body"]


def test_a_blog_posts_title_linked_to_the_post_anchors_it():
    # a blog shows the post's title as a link to the post itself: the headline, and the intro under it stays
    page = "\n\n".join(
        [
            "Altes Schulhaus wird Bürgerhaus",
            '## [Altes Schulhaus wird Bürgerhaus](https://dorfblatt-beispiel.de/2024/05/buergerhaus/ "Permalink")',
            "Am Dienstag fiel im Gemeinderat die Entscheidung für das neue Bürgerhaus im Ortskern.",
            P1,
            P2,
        ]
    )
    row = _one(page + "\n")
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert text.startswith("Am Dienstag fiel") and P2 in text
    assert "title_repeat" in {r["rule"] for r in row["removed"]}


def test_a_posts_sign_off_under_its_last_paragraph_stays():
    # a greeting and a name close a blog post or a column; the share line after it still goes
    row = _one(_page(P1, P2, P3, "Liebe Grüße, eure Anna", "[Teilen](/teilen) [Twittern](/twittern)"))
    assert row["body"].endswith(P3 + "\n\nLiebe Grüße, eure Anna")
    # a sign-off is no greeting further down the page, in a box after the article's end
    row = _one(_page(P1, P2, P3, "Das könnte Sie auch interessieren", "[Der Bericht](/bericht)", "Euer Dorfblatt"))
    assert "Euer Dorfblatt" not in row["body"]


def test_zoom_hints_between_the_pictures_of_an_article_do_not_end_it():
    # a picture's zoom hint stands inside the article, next to its picture: it goes, but weighs little
    hint = "[Zum Vergrößern bitte anklicken](/bilder/schule.jpg)"
    last = "Die Kosten trägt die Gemeinde allein, teilte die Bürgermeisterin am Abend mit."
    row = _one(_page(P1, P2, P3, hint, hint, last, FOOTER))
    assert row["body"].endswith(P3 + "\n\n" + last)
    assert "Vergrößern" not in row["body"]


def test_a_link_whose_text_is_its_address_is_a_cited_source():
    # a linked address is a source the article cites, as a bare one is, not a menu's link
    url = "https://www.beispiel-verein.de/aufruf"
    last = "Unterschreiben kann jeder, der in Beispieldorf wohnt."
    row = _one(_page(P1, P2, P3, f"[{url}]({url})", last, FOOTER))
    assert url in row["body"] and row["body"].endswith(last)
    # so is a host name alone as a link's text, here at the end of the article's last line
    more = "Alle Termine stehen auf der Seite des Vereins: [beispiel-verein.de](https://beispiel-verein.de)"
    row = _one(_page(P1, P2, P3, more, "Schreibe einen Kommentar"))
    assert row["body"].endswith(P3 + "\n\nAlle Termine stehen auf der Seite des Vereins: beispiel-verein.de")
    # a link with words for its text still weighs against the article
    row = _one(_page(P1, P2, P3, "[Zum Aufruf des Vereins](https://www.beispiel-verein.de/aufruf)", last, FOOTER))
    assert row["body"].endswith(P3)


def test_a_last_sentence_that_ends_in_an_address_stays():
    # "…finden Sie hier: https://…" ends its sentence with the address: it is the article's last unit of text
    url, text = "https://kurz.link/a1b2", "Fotos zum Download gibt es hier: "
    row = _one(_page(P1, P2, P3, f"{text}[{url}]({url})", FOOTER))
    assert row["body"].endswith(P3 + "\n\n" + text + url)


def test_a_long_line_of_archive_months_does_not_outweigh_a_short_post():
    # a blog's sidebar: one long line of months with post counts (no prose), after a short post and a menu
    months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober"]
    entries = (f"{m} {y} ({n % 9 + 1})" for y in range(2010, 2024) for n, m in enumerate(months))
    archive = "Monat auswählen " + " ".join(entries)
    row = _one(_page(P1, MENU, archive))
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert P1 in text
    assert "Monat auswählen" not in text


def test_a_comment_section_after_a_short_post_ends_it():
    # a post of two short paragraphs (less than a news article's first paragraph), then more prose in comments
    post = (
        "Heute war ich am Marktplatz und habe mir die alte Schule angesehen, aus der ein Bürgerhaus werden "
        "soll. Die Pläne gefallen mir gut, vor allem der Saal."
    )
    comment = (
        "Das sehe ich ganz anders, denn die Vereine haben doch schon genug Räume im Ort und die Kosten "
        "werden am Ende wieder viel höher sein, als man uns jetzt erzählt. Wer soll das alles bezahlen, "
        "wenn die Gemeinde schon jetzt kein Geld für die Straßen und die Schwimmhalle hat?"
    )
    for heading in (
        "2 Kommentare zu „Altes Schulhaus wird Bürgerhaus“",
        "### 3 Kommentare",
        "Schreibe einen Kommentar",
    ):
        row = _one(_page(post, post.replace("Heute", "Gestern"), heading, comment, comment, comment))
        text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
        assert "Die Pläne gefallen mir gut" in text, heading
        assert "Das sehe ich ganz anders" not in text, heading


def test_a_bare_comments_line_under_the_lead_does_not_end_the_article():
    # "Kommentare" on a line of its own after the first paragraphs: a jump link to the comments or a tab
    more = (
        "Für die Zeit des Umbaus hat die Gemeinde mit dem Sportverein vereinbart, dass die Turnhalle auch am "
        "Wochenende für Proben und Versammlungen offensteht. Die Kosten für Strom und Reinigung übernimmt in "
        "dieser Zeit die Gemeinde, die Vereine zahlen keine Miete."
    )
    for line in ("Kommentare", "Kommentare (12)", "12 Kommentare"):
        row = _one(_page(P1, P2, line, P3, more))
        assert P3 in row["body"] and more in row["body"], line


def test_a_linked_sentence_right_before_the_article_opens_it():
    caption = "[Die alte Schule am Marktplatz soll bald ein Bürgerhaus werden.](https://dorfblatt.example/bild.jpg)"
    row = _one(_page(MENU, caption, P1, P2, P3))
    text = "\n\n".join(x for x in (row["teaser"], row["body"]) if x)
    assert "Die alte Schule am Marktplatz soll bald ein Bürgerhaus werden." in text
    assert "Startseite" not in text
    # a link line that is no sentence (a menu entry, a headline of another article) still goes
    other = "[Neue Ampel an der Hauptstraße](https://dorfblatt.example/ampel)"
    row = _one(_page(MENU, other, P1, P2, P3))
    assert "Neue Ampel" not in "\n\n".join(x for x in (row["teaser"], row["body"]) if x)


def test_the_last_items_of_a_list_that_ends_the_article_stay():
    items = [
        "Ein gültiger Personalausweis oder Reisepass",
        "Eine Meldebescheinigung der Gemeinde Beispieldorf",
        "Ein Girokonto",
        "Zwei Passfotos",
    ]
    row = _one(_page(P1, P2, "Für den Antrag brauchen Sie:", "\n".join(f"* {x}" for x in items)))
    body = row["body"].split("\n")
    assert all(x in body for x in items)
