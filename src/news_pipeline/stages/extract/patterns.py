"""The regular expressions that recognise the parts of a scraped article, in one place.

They run in Polars' Rust regex engine (linear time, no look-around), so adversarial text
cannot make them backtrack for ever.
"""

from __future__ import annotations

import polars as pl

MAX_HEADING_WORDS = 10  # an unfinished block longer than this is a cut paragraph, not a subheading
MAX_SPLIT_HEADING_WORDS = 8
MAX_BOILERPLATE_CHARS = 200

_DOMAIN = r"(?:[a-z0-9äöü](?:[a-z0-9äöü-]*[a-z0-9äöü])?\.)+[a-z]{2,24}"
DOMAIN = rf"(?i)(?:https?://)?(?:www\.)?{_DOMAIN}"

# --- line labels -------------------------------------------------------------------------
DETAIL_HEAD = r"^Details\s*:?$"
DETAIL_KEY = r"^[•·*-]?\s*(Vorfall|Ort|Quellen)\s*(?:\t|:)\s*(.*)$"
SOURCE_LIST = rf"(?i)^(?:[•·*–-]?\s*(?:https?://)?(?:www\.)?{_DOMAIN}/?\s*[,;]?\s*)+$"
PUBLISHER = r"(?i)^Besuchen Sie uns (?:auf|unter)\s*:?\s*(.+)$"
COPYRIGHT_PUBLISHER = rf"(?i)^(?:©|\(c\)|copyright)\s*(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?\s*)?((?:https?://)?(?:www\.)?{_DOMAIN})(?:$|[\s,.–-])"
#: PUBLISHER or COPYRIGHT_PUBLISHER, in one pass
ANY_PUBLISHER = f"(?:{PUBLISHER})|(?:{COPYRIGHT_PUBLISHER})"
RELATED = r"^(?:Mehr zum Thema|Lesen Sie auch|Lesen Sie mehr|Das könnte Sie auch interessieren)\s*[–—:-]?\s*(.+)$"
BOILERPLATE = (
    r"(?i)^(?:"
    r"schreibe(?:n sie)? einen kommentar|kommentar (?:schreiben|verfassen|abgeben)"
    r"|kommentare?\s*(?:\(\d+\)|anzeigen|lesen)?$"
    r"|ihre e-mail-adresse wird nicht veröffentlicht|erforderliche felder sind|name\s*\*?$|e-mail\s*\*?$|website\s*\*?$"
    r"|kommentar\s*\*$|antworten abbrechen|kommentar abschicken|meinen namen, meine e-mail-adresse|antworten$"
    r"|(?:startseite|home)\s*[›»>/|]|hat ihnen (?:dieser|der|unser) (?:artikel|beitrag) gefallen|drucken$"
    r"|[-–]?\s*anzeige\s*[-–]?$"
    r"|(?:diesen |den )?artikel (?:teilen|drucken|merken|empfehlen|versenden)"
    r"|teilen(?: sie)?(?: diesen artikel| den artikel)?(?: auf| mit| via)?\s*:|jetzt teilen|teilen$"
    r"|(?:auf )?(?:facebook|twitter|whatsapp|telegram|linkedin|pinterest|xing|e-mail|email|drucken|x)"
    r"(?:\s*[|·•,/]\s*(?:facebook|twitter|x|whatsapp|telegram|linkedin|pinterest|xing|e-mail|email|drucken|teilen|mail))+\s*$"
    r"|(?:jetzt |hier )?(?:zum |für den |unseren )?newsletter"
    r"|(?:melden sie sich|registrieren sie sich|abonnieren sie).{0,60}newsletter|folgen sie uns|folge uns"
    r"|jetzt abonnieren|abonnieren sie"
    r"|diese (?:website|webseite|seite) (?:verwendet|nutzt) cookies|wir (?:verwenden|nutzen) cookies"
    r"|cookie-?einstellungen|cookies? akzeptieren|alle cookies|mit der nutzung dieser (?:website|seite)"
    r"|werbung$|anzeige$|advertisement$|sponsored$"
    # photo credits are an agency or a name or two ("Foto: APA/dpa"), not a headline that starts with "Foto:"
    r"|(?:foto|fotos|bild|bilder|grafik|video|quelle bild)\s*:\s*(?:\S+(?:\s+\S+){0,2}|.*[/©].*)$"
    # "copyright" then a non-word character or the end: a "\b" would make the regex engine leave its
    # fast DFA on non-ASCII text, doubling the cost of the pattern (contains() only needs the match)
    r"|©|\(c\)\s|copyright(?:[^\w]|$)|alle rechte vorbehalten"
    r"|zurück zur (?:startseite|übersicht)|nach oben$|weitere artikel|ähnliche artikel$|verwandte artikel$"
    r"|(?:loggen|melden) sie sich (?:ein|an)|registrieren sie sich|jetzt (?:registrieren|anmelden)"
    r"|lesezeit\s*:|(?:zuletzt )?aktualisiert(?: am)?\s*:?\s*\d|veröffentlicht(?: am)?\s*:?\s*\d"
    r"|tags\s*:|schlagwörter\s*:|themen\s*:"
    r"|unterstützen sie (?:unseren|unabhängigen|uns)|diskutieren sie mit|zum (?:kommentieren|forum)|hier klicken"
    r"|klicken sie hier|mehr erfahren$|weiterlesen$"
    r")"
)
MD_HEADING = r"^#{1,6}\s"
#: Any of the line patterns above: a line that matches none is plain content.
ANY_SPECIAL_LINE = "|".join(
    f"(?:{p})" for p in (DETAIL_HEAD, DETAIL_KEY, SOURCE_LIST, PUBLISHER, COPYRIGHT_PUBLISHER, RELATED, BOILERPLATE)
)
#: Text without any of these marks is left as it is by ``strip_markdown``.
MARKDOWN_MARK = r"[\[*_]|^#"

# --- block features --------------------------------------------------------------------
# end punctuation, or an agency/date signature such as "(APA, 12.2.2016)" that closes a paragraph
TERMINAL = r"[.!?…:;][\"“”„»«'’)\]]*$|\([^()]*\d{4}\)$"
OPEN_END = r"[,\-–—(/&]$"
LAST_WORD = r"([\p{L}\p{N}'’-]+)[^\p{L}\p{N}]*$"
#: Lower-case words that cannot end a heading or a sentence: a block ending in one was cut mid-sentence.
FUNCTION_WORDS = frozenset(
    "der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner und oder aber sowie "
    "doch sondern denn in im an am auf aus bei beim mit nach von vom zu zum zur für über unter vor hinter neben "
    "zwischen durch gegen ohne um als wie dass weil wenn ob ab bis seit trotz wegen während statt sich sein seine "
    "seinen seinem seiner ihr ihre ihren ihrem ihrer unser unsere dieser diese diesen diesem dieses jeder jede jeden "
    "jedem alle allen mehr sehr noch nicht auch so schon nur jetzt erst bereits fast oft selbst etwa rund rund "
    "laut gut nun zudem damit dabei dafür dazu davon daher the of and".split()
)
#: Finite verbs: a short unfinished block with one of them before its last word is part of a sentence, not a heading.
FINITE_VERBS = (
    "ist|sind|war|waren|wird|werden|wurde|wurden|hat|haben|hatte|hatten|kann|können|konnte|konnten|muss|müssen|"
    "musste|mussten|soll|sollen|sollte|sollten|will|wollen|wollte|wollten|darf|dürfen|gibt|gab|geht|ging|kommt|kam|"
    "steht|stand|liegt|lag|sagt|sagte|sagten|heißt|bleibt|blieb|macht|machte|zeigt|zeigte|lässt|ließ|hält|hielt|"
    "sieht|sah|scheint|schien|schickt|bringt|brachte|führt|führte|plant|fordert|forderte|rechnet|erklärte|betonte"
)
#: Headings that end on a verb are subordinate clauses: "Wie es weitergeht", "Was über X bekannt ist".
W_CLAUSE = r"^(?:Wie|Was|Warum|Wer|Wo|Wann|Weshalb|Wieso|Woher|Wohin|Welche[rsnm]?|Ob|Wenn|Wozu|Womit)\s"
#: Lower-case verbs that end German clauses ("Was wir wissen müssen", "Wie es weitergeht").
CLAUSE_FINAL_VERBS = frozenset(
    "sein haben werden können müssen sollen wollen dürfen lassen bleiben gehen kommen geben stehen liegen "
    "sind waren wurden hatten konnten mussten sollten wollten".split()
)
LOWER_START = r"^[\"„“»«(]?[a-zäöüß]|^[,;.:)]"

# --- dateline: "Wien – ", "Moskau, Russland - ", "Washington/Moskau (APA) – " ------------------
_PLACE_WORD = r"[A-ZÄÖÜ][\p{L}\p{M}.'’-]*"
_PLACE_JOINER = r"(?:am|an der|an|bei|im|ob der|ob|de|del|da|do|la|le|el|upon|on|sur)"
_DATELINE_HEAD = (
    rf"({_PLACE_WORD}(?:(?:\s+|\s*/\s*|,\s+)(?:{_PLACE_WORD}|{_PLACE_JOINER})){{0,5}})"
    r"(?:\s*\([^()]{1,20}\))?\s+[–—-]\s+"
)
#: 1: the dateline, 2: the text after it.
DATELINE = rf"^{_DATELINE_HEAD}(\S.*)$"
#: The same match on text without line breaks, but it stops where the text after the dateline
#: starts (one character into it), so the capture engine never walks a paragraph:
#: 1: all before that text, 2: the dateline.
DATELINE_START = rf"^({_DATELINE_HEAD})\S"
DATELINE_STOP = (
    r"(?:^|[\s/,])(?:Der|Die|Das|Ein|Eine|Einer|Es|Er|Sie|Wir|Ich|Ihr|Doch|Aber|Und|Auch|Noch|Nur|So|Wie|Was|Wer"
    r"|Wo|Wenn|Als|Mit|Nach|Bei|Für|Am|Im|In|Auf|An|Um|Von|Vor|Zu|Dieser|Diese|Dieses|Kein|Keine|Man|Hier|Dort"
    r"|Dann|Jetzt|Heute|Gestern|Morgen|Video|Foto|Update|Live|Exklusiv|Kommentar|Analyse|Interview|Teil"
    r"|Wegen|Trotz|Laut|Seit|Während|Ohne|Gegen|Über|Unter|Durch|Bis|Ab|Neue|Neuer|Neues|Mehr|Viele|Alle)(?:$|[\s/,])"
)

# --- inline credits: **vienna.at**, [n-tv.de](#), [berliner-zeitung.de](https://…) ----------
#: A line without either of these holds no CREDIT.
CREDIT_MARK = r"\*\*|\["
CREDIT = rf"(?i)\*\*\s*(?:https?://)?(?:www\.)?{_DOMAIN}/?\s*\*\*|\[\s*(?:https?://)?(?:www\.)?{_DOMAIN}/?\s*\]"


def domain_of(expr: pl.Expr) -> pl.Expr:
    """The bare lower-case domain in a string: no scheme, no ``www.``, no path."""
    return expr.str.to_lowercase().str.extract(rf"(?:https?://)?(?:www\.)?({_DOMAIN})", 1)


def strip_markdown(expr: pl.Expr) -> pl.Expr:
    """Text without Markdown images, links (their text stays), emphasis and heading marks."""
    return (
        expr.str.replace_all(r"!\[[^\]]*\]\([^)]*\)", "")
        .str.replace_all(r"\[([^\]]*)\]\([^)]*\)", "$1")
        .str.replace_all(r"\*\*([^*]+)\*\*", "$1")
        .str.replace_all(r"__([^_]+)__", "$1")
        .str.replace_all(r"(^|[\s(„\"])\*([^*\s][^*]*?)\*", "$1$2")
        .str.replace_all(r"\*\*|^#{1,6}\s+", "")
    )
