"""The regular expressions that recognise the parts of a scraped article, in one place.

They run in Polars' Rust regex engine (linear time, no look-around), so adversarial text
cannot make them backtrack for ever.
"""

from __future__ import annotations

import polars as pl

MAX_HEADING_WORDS = 10  # an unfinished block longer than this is a cut paragraph, not a subheading
MAX_SPLIT_HEADING_WORDS = 8
MAX_BOILERPLATE_CHARS = 200

#: a host name without scheme: "beispiel.de", "news.beispiel.de"
DOMAIN_NAME = r"(?:[a-z0-9äöü](?:[a-z0-9äöü-]*[a-z0-9äöü])?\.)+[a-z]{2,24}"
DOMAIN = rf"(?i)(?:https?://)?(?:www\.)?{DOMAIN_NAME}"

# --- line labels -------------------------------------------------------------------------
DETAIL_HEAD = r"^Details\s*:?$"
DETAIL_KEY = r"^[•·*-]?\s*(Vorfall|Ort|Quellen)\s*(?:\t|:)\s*(.*)$"
SOURCE_LIST = rf"(?i)^(?:[•·*–-]?\s*(?:https?://)?(?:www\.)?{DOMAIN_NAME}/?\s*[,;]?\s*)+$"
PUBLISHER = r"(?i)^Besuchen Sie uns (?:auf|unter)\s*:?\s*(.+)$"
COPYRIGHT_PUBLISHER = rf"(?i)^(?:©|\(c\)|copyright)\s*(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?\s*)?((?:https?://)?(?:www\.)?{DOMAIN_NAME})(?:$|[\s,.–-])"
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
    r"(?:\s*[|·•,/]\s*(?:facebook|twitter|x|whatsapp|telegram|linkedin|pinterest|xing|e-mail|email|drucken|teilen|mail))+\s*"
    r"$"
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
#: Generic German (and English) web vocabulary: a short line that is one of these words, or opens
#: with one of the phrases, is site furniture on any site (menus, consent banners, comment forms,
#: share, rating and subscription prompts, paywalls, bylines, picture credits, footers), not article text.
WEB_BOILERPLATE = (
    r"(?i)^\s*(?:"
    # a navigation or footer item, the whole line
    r"(?:impressum|datenschutz(?:erklärung|hinweise?|einstellungen|richtlinie|bestimmungen)?|kontakt(?:formular)?|agb"
    r"|nutzungsbedingungen|barrierefreiheit|sitemap|mediadaten|über uns|presse|karriere|jobs|faq|hilfe|suche|suchen"
    r"|menü|menu|navigation|hauptmenü|inhalt|inhaltsverzeichnis|startseite|home|login|log in|einloggen|ausloggen"
    r"|anmelden|abmelden"
    r"|registrieren|mein konto|warenkorb|newsletter|rss|archiv|abo|abonnieren|e-paper|epaper|podcasts?|teilen|drucken"
    r"|drucken etc|merken|favorisieren|empfehlen|kommentare?|antworten|zurück|weiter|vorheriger? (?:artikel|beitrag)"
    r"|nächster (?:artikel|beitrag)|vorherige[sr]?(?: (?:seite|artikel|beitrag))?(?: weiter)?|nächste seite"
    r"|nach oben|mehr anzeigen|alle anzeigen|mehr laden|weiterlesen|schließen|cookies?|cookie-einstellungen"
    r"|einstellungen"
    r"|akzeptieren|ablehnen|alle akzeptieren|einverstanden|zustimmen|schlagw(?:ö|o)rte?r?|stichworte|kategorien?|tags"
    r"|themen"
    r"|downloads?|links|verwandte links|weitere informationen|weitere infos|mehr informationen|mehr infos|zum shop"
    r"|jetzt kaufen|in den warenkorb|jetzt spenden|spenden|jetzt helfen|externer inhalt|autor(?:in|en)?|redaktion"
    r"|share|tweet|print|search|contact|privacy policy|imprint|skip to content|anzeige|werbung|gefällt mir"
    r"|wird geladen|loading|lade|liken)\s*[:.!»›>|…*]*$"
    # consent, account, comment, subscription, sharing and rating prompts, paywalls
    r"|(?:zum|direkt zum|springe zum|weiter zum|direkt zu) (?:inhalt|hauptinhalt|content)"
    r"|zur (?:navigation|suche|hauptnavigation)"
    r"|(?:diese|unsere) (?:website|webseite|seite) (?:verwendet|nutzt|benutzt) (?:cookies|akismet)"
    r"|wir (?:verwenden|nutzen|setzen) cookies|(?:this|our) (?:website|site|page) uses cookies|we use cookies"
    r"|by (?:continuing|using) (?:to browse|this)"
    r"|(?:durch|mit|bei) (?:der |die )?(?:weitere[n]? )?nutzung (?:dieser|unserer) (?:website|webseite|seite)"
    r"|(?:sie müssen|bitte) (?:sich )?(?:angemeldet|eingeloggt|registriert)"
    r"|(?:sie müssen|du musst) (?:sich |dich )?(?:anmelden|einloggen|registrieren)"
    # an advertisement's label before its text, a mediathek's notice, a listing's count, an author's bio line
    r"|anzeige\s*[-–:|]\s|(?:video|audio|sendung|beitrag|folge) verfügbar bis"
    r"|(?:es werden )?(?:die )?(?:\S+ )?\d+ (?:bis|-|–) \d+ von (?:insgesamt )?\d+ (?:\S+ )?angezeigt"
    r"|schreibt seit (?:\d{4}|(?:vielen |über \d+ )?jahren) (?:für|über|bei)\s"
    # a cookie notice, a push-notification prompt, a donation prompt, an opinion piece's disclaimer
    r"|cookies (?:erleichtern|helfen|ermöglichen) (?:uns )?(?:die|bei der) bereitstellung"
    r"|(?:push-)?benachrichtigung(?:en)? aktivieren|dürfen wir (?:sie|dich) .{0,80}benachrichtigen"
    r"|unterstütze(?:n sie)? (?:uns|das projekt|unsere arbeit)(?:[^\p{L}\p{N}]|$)"
    r"|(?:dieser|der) (?:beitrag|artikel|text|kommentar|gastbeitrag) gibt (?:ausschließlich )?die (?:meinung|ansicht)"
    # a consent manager's and a newsletter form's texts, a comment's and a search form's buttons
    r"|die technische speicherung oder der zugriff|durch das aktivieren der .{0,40}buttons"
    r"|(?:auf )?(?:unserer|dieser) (?:website|webseite|seite|homepage) werden cookies"
    r"|ja,? ich möchte .{0,80}(?:informiert werden|newsletter|e-mails? erhalten)"
    r"|als spam melden|ergebnisse anzeigen\s*$"
    r"|(?:bitte )?(?:melden sie sich|loggen sie sich|melde dich|logge dich)(?: vor dem kommentieren)? (?:an|ein)"
    r"|verpasse(?:n sie)? (?:keine|nie wieder) (?:news|nachrichten|artikel|beiträge|folge|ausgabe)"
    r"|vervielfältigung nur mit (?:genehmigung|erlaubnis)"
    # a magazine's ad for itself and a note where an article first ran, a cross-reference, a gallery's buttons
    r"|(?:die )?aktuelle ausgabe\s*[:!.]?\s*$|(?:die )?aktuelle ausgabe (?:\S+ ){0,3}(?:jetzt|ist da|am kiosk)"
    r"|siehe auch\s*:?\s|bild (?:anzeigen|schließen)"
    # a series' note that points to its other parts ("Dies ist Teil 2 zum Text …", "Lesen Sie hier den ersten Teil")
    r"|dies ist teil \d+ (?:zu|zum|von|der|des|unserer|einer)\s"
    r"|dies ist (?:der )?(?:\d+\. |erste |zweite |dritte |letzte )?teil (?:\d+ )?(?:unserer|einer|der|dieser)"
    r" (?:serie|reihe|artikelserie|beitragsreihe)"
    r"|(?:lesen sie|hier geht(?:'s| es) zu[mr]?) (?:hier )?(?:auch )?(?:den |dem )?(?:ersten|zweiten|dritten|vorherigen"
    r"|nächsten|\d+\.) teil(?:[^\p{L}\p{N}]|$)"
    r"|(?:dieser|der) (?:beitrag|artikel|text) (?:stammt aus|erschien (?:zuerst |auch )?in) (?:der )?(?:\S+ )?ausgabe"
    r"|mit (?:dem )?absenden (?:meiner|ihrer|deiner|des formulars)|bankverbindung\s*:|iban\s*:"
    r"|pressekontakt\s*:?\s*$|pressesprecher(?:\*?in)?(?: \S+){1,2}\s*$"
    # a player's button explained, a health portal's note on its sources
    r"|mit diesem button|(?:dieser|der) (?:text|artikel|beitrag) entspricht den (?:vorgaben|richtlinien|leitlinien)"
    r"|(?:\S+ ){1,2}newsletter\s*$"
    # a shop's cart message
    r"|(?:der |das )?(?:artikel|produkt) wurde (?:erfolgreich )?"
    r"(?:hinzugefügt|(?:zu (?:ihrem|deinem) |in den |zum )warenkorb)"
    r"|(?:gib deine|geben sie ihre) e-mail-adresse ein|\(?noch keine bewertung(?:en)?\)?"
    r"|(?:möchten sie|willst du|möchtest du) (?:den|diesen) (?:artikel|beitrag|text) teilen"
    r"|(?:dieser|der) (?:text|beitrag|artikel|eintrag|blogeintrag) wurde (?:.{0,60} )?(?:veröffentlicht|publiziert)"
    r"|wenn sie (?:inhaltliche anmerkungen|(?:diesen|den) (?:blogeintrag|beitrag|artikel) kommentieren)"
    r"|(?:die )?(?:texte|inhalte) (?:auf )?dieser (?:webseite|website|seite) (?:stehen|sind) unter"
    r"|unless otherwise stated|if not explicitly specified otherwise"
    # a calendar widget or a pager: a row of weekday abbreviations, a row of day or page numbers
    r"|(?:(?:mo|di|mi|do|fr|sa|so|su|tu|we|th)\.?\s+){6}(?:mo|di|mi|do|fr|sa|so|su|tu|we|th)\.?\s*$"
    r"|(?:\d{1,2}\s+){2,}\d{1,2}\s*$"
    # an account form's buttons, errors and confirmations ("Passwort vergessen?", "Neues Konto anlegen")
    r"|passwort vergessen|(?:neues |ihr |dein )?passwort (?:ändern|zurücksetzen|festlegen|vergeben|geändert)\s*$"
    r"|die eingegebenen passwörter|bitte (?:fülle|füllen sie) alle pflichtfelder"
    r"|(?:diese|zu dieser) e-mail-adresse (?:scheint|ist bereits|ist kein|existiert)"
    r"|bitte (?:trage|tragen sie|gib|geben sie) (?:eine|deine|ihre) (?:gültige )?e-mail-adresse"
    r"|(?:deine|ihre) registrierung (?:war|ist|wird|wurde)|leider hat die registrierung"
    r"|(?:neues |ein )?(?:benutzer)?konto (?:anlegen|erstellen)\s*$|mit (?:\S+-)?konto anmelden|login mit\s"
    r"|sie sind (?:aktuell |derzeit )?nicht (?:eingeloggt|angemeldet)"
    r"|nur (?:angemeldete|registrierte) (?:benutzer|nutzer|user)"
    r"|um (?:einen )?kommentar(?:e)? (?:zu )?(?:schreiben|verfassen|abzugeben)"
    r"|kommentar (?:schreiben|verfassen|abgeben|hinterlassen|hinzufügen)"
    r"|schreib(?:e|en sie)? einen kommentar|hinterlasse(?:n sie)? einen kommentar|dein kommentar|ihr kommentar"
    r"|keine kommentare|\d+ kommentare?|kommentare? \(\d+\)|neueste kommentare|letzte kommentare|leserkommentare"
    r"|(?:ihre|deine) e-mail-adresse wird nicht veröffentlicht|gib (?:hier )?deinen kommentar|e-mail \(wird"
    r"|(?:jetzt |hier )?(?:zum )?newsletter (?:abonnieren|anmelden|bestellen)"
    r"|abonnier(?:e|en sie) (?:unseren|den|meinen)"
    r"|teilen mit|teile(?:n sie)? (?:diesen|den|dies|es)"
    r"|(?:diesen |den |das )?(?:artikel|beitrag|seite|rezept|tipp) (?:teilen|drucken|merken|empfehlen|versenden"
    r"|favorisieren)"
    r"|mit freunden teilen|sharen mit|share this|sharing is caring|be sociable|empfiehl (?:dies|uns)|jetzt teilen"
    r"|(?:\d+ |%d |ein(?:em)? )?bloggern? gefällt|gefällt mir:?|ähnliche (?:artikel|beiträge|nachrichten)"
    r"|verwandte (?:artikel|beiträge|themen)"
    r"|das könnte (?:sie|dich) auch interessieren|(?:auch|ebenfalls) interessant"
    r"|empfohlen(?:e (?:artikel|beiträge)| für dich)"
    r"|weitere (?:artikel|beiträge|meldungen|nachrichten|themen|pressemitteilungen)|beliebte (?:artikel|beiträge)"
    r"|meistgelesen"
    r"|(?:war|ist|fanden sie|fandest du) (?:dieser|der|diese|die|das) (?:artikel|beitrag|seite|text|information)"
    r" (?:nützlich|hilfreich|interessant)"
    r"|wie (?:bewerten|gefällt|fanden) (?:sie|ihnen|dir|du)|(?:artikel|beitrag|produkt|seite) bewerten|bewerten sie"
    r"|hat (?:ihnen|dir) (?:dieser|der|unser) (?:artikel|beitrag|text) gefallen|gefällt (?:ihnen|dir) (?:unser|dieser)"
    # "Artikel gefallen? Dann teilen!" and an image's zoom button over its caption ("Vergrößern Das neue ...")
    r"|(?:der |dieser |den )?(?:artikel|beitrag) gefallen\s*\?|vergrößern\s"
    r"|(?:kostenlos|jetzt|gratis) (?:registrieren|anmelden|testen|abonnieren|weiterlesen|lesen)"
    r"|bereits (?:abonnent|registriert|kunde)"
    r"|(?:wählen sie|sichern sie sich) (?:ihren|jetzt) zugang|lust auf mehr|if you enjoyed|leave a reply|posted in"
    r"|this (?:entry|post) was posted"
    r"|tagged"
    r"|alle rechte vorbehalten|copyright(?:[^\p{L}]|$)|powered by"
    r"|(?:foto|fotos|bild|bilder|titelbild|beitragsbild|symbolbild|grafik"
    r"|illustration|bildquelle|quelle|credits?|abbildung(?: \d+)?)\s*:|(?:autor(?:in|en)?|von|text|interview"
    r"|veröffentlicht in"
    r"|kategorie|kategorien|schlagw(?:ö|o)rte?r?|stichworte|tags"
    r"|getaggt mit)\s*:|stand\s*:\s*\d|(?:freie[rs]? )?(?:redakteur(?:in)?"
    r"|autor(?:in)?|journalist(?:in)?|korrespondent(?:in)?|volontär(?:in)?) (?:in|für|bei|im|der|des|und)\s"
    r"|klicken sie auf den (?:unteren )?button|(?:externe[rn]? )?inhalte? (?:laden|anzeigen|akzeptieren)"
    r"|bitte geben sie (?:die|den) (?:zahlenfolge|code|zeichen)|captcha|sicherheitscode|(?:zum|bild) vergrößern"
    # a server's error message where the page's text should be
    r"|(?:warning|notice|deprecated|strict standards|fatal error|parse error)\s*:.{0,400}? on line \d+"
    r"|was (?:denkst du|meinst du)\s*\?*$|meist (?:gesucht|gelesen|geklickt|kommentiert)\s*:?$"
    # a line that is a date (and time) alone
    r"|(?:(?:mo|di|mi|do|fr|sa|so)[a-z]*\.?,?\s*)?\d{1,2}\.\s*(?:\d{1,2}\.|[a-zäöü]+\.?)\s*\d{2,4}(?:,?\s*(?:um\s*)?\d{1,2}[:.]\d{2}(?:\s*uhr)?)?\s*"
    r"$"
    r")"
)
#: Anywhere in a short line: a copyright sign, a stock-photo credit, newsletter sign-ups, phone numbers.
#: (A word's end is written out: a "\b" makes the regex engine leave its DFA, and this pattern runs on
#: nearly every line; with one it cost 0.6 s per 1,000 documents, two thirds of all the cleaning.)
WEB_BOILERPLATE_ANYWHERE = (
    r"(?i)©"
    r"|(?:shutterstock|istock(?:photo)?|getty ?images|unsplash|pixabay|adobe ?stock|fotolia|imago"
    r" images|picture[- ]alliance)"
    r"|(?:unseren?|ihren?|den|zum|kostenlosen?|meinen?|wöchentlichen?) newsletter"
    r"|newsletter (?:abonnieren|bestellen|anmelden|erhalten)|[\p{L}\p{N}]-newsletter(?:[^\p{L}\p{N}]|$)"
    r"|affiliate[- ]?links?|eine provision(?:[^\p{L}\p{N}]|$)|als pdf (?:herunterladen|downloaden|speichern)"
    # a picture's caption ends with its credit: "Helfer bei der Übung. (Foto: Privat)", "... Übung. Foto: APA/dpa"
    r"|\(\s*(?:foto|fotos|bild|bilder|grafik)\s*:[^()]{1,60}\)\s*$|[.!?]\s+(?:foto|fotos|bild)\s*:\s*[^!?:]{1,60}$"
    r"|(?:tel|telefon|fon|fax|mobil|hotline|whatsapp)\.?\s*:?\s*\+?\(?\d[\d /()-]{5,}"
    # a picture's caption marked as a stand-in ("… (Symbolbild)"), a shop's and a magazine's offers
    r"|\((?:symbolbild|symbolfoto|archivbild|archivfoto)\)\.?\s*$|(?:ihr|dein) warenkorb ist leer"
    r"|kostenfreie lieferung|kostenloser versand|versandkostenfrei|lesen oder verschenken"
    r"|nichts mehr (?:verpassen|versäumen)|antwort abbrechen|(?:bild|foto|fotos|grafik|quelle) via(?:\s|$)"
    # a byline's or a post's footer: its comment count at the line's end, its tags
    r"|[^\p{L}\p{N}]\d+ kommentare?\s*$|getaggt mit\s*:"
    r"|kommentieren zu können|(?:müssen sie|musst du|sie müssen|du musst) (?:dazu )?(?:eingeloggt|angemeldet) sein"
    # a form's consent ("Mit der Anmeldung erklären Sie sich damit einverstanden, ...") and a zoom hint
    r"|(?:erklären sie sich|erkläre ich mich|erklärst du dich) (?:damit |hiermit )?einverstanden"
    r"|willige ich .{0,60}ein(?:[^\p{L}\p{N}]|$)"
    r"|zum vergrößern (?:bitte )?(?:auf das bild |hier )?(?:klicken|anklicken)"
    # a blog's call for comments under its post ("Schreib doch einen Kommentar!")
    r"|(?:schreib|schreibe|schreiben sie|hinterlass|hinterlasse|hinterlassen sie)"
    r" (?:doch |gerne |gern |uns |mir )*einen kommentar"
    # a page's notice that scripts or frames are off ("Bitte aktivieren Sie JavaScript", "JavaScript ist deaktiviert")
    r"|javascript (?:muss |ist |wurde )?(?:aktiviert|deaktiviert|ausgeschaltet|aktivieren|einschalten)"
    r"|aktivieren sie (?:bitte )?javascript|ihr browser unterstützt (?:\S+ ){0,3}?(?:nicht|keine)"
    r"|browser-einstellungen verhindern|(?:dein|ihr) browser ist (?:leider )?(?:veraltet|nicht mehr aktuell)"
    r"|einen (?:neueren|aktuellen|modernen) browser"
    # a link's notice that it opens a new window or tab ("Links öffnen in einem neuen Fenster")
    # (the window is a new one: "Er öffnet Fenster und Türen" is a sentence)
    r"|öffne[nt]? (?:sich )?(?:in |als )?(?:einem |einen |ein )?(?:extra|neue[nms]?|separate[nms]?|eigene[nms]?)"
    r" (?:browser)?(?:fenster|tab)(?:[^\p{L}\p{N}]|$)"
    # a blog's drop-down of its categories or months ("Kategorie auswählen Allgemein Ausflüge …")
    r"|(?:kategorie|monat) auswählen"
)
#: Of the web text, a picture's zoom button or hint and a gallery's buttons: they stand inside articles, next to
#: their pictures (such a line goes, but weighs little; a credit, by contrast, often closes the article).
FIGURE = r"(?i)vergrößer|bild (?:anzeigen|schließen)"
#: A heading that opens a comment section: on any site the article has ended where one follows it.
COMMENTS_HEADING = (
    r"(?i)^(?:"
    r"(?:\d+|ein|eine|einen|zwei|drei|keine?)\s+(?:gedanken?|kommentare?|antworten?|reaktionen?|meinungen?|responses?|comments?|thoughts?"
    r")"
    r"(?:\s+(?:zu|auf|zum|zur|on|to)(?:\s|$)|\s*[:(]|$)"
    r"|(?:(?:die |unsere )?(?:neueste[n]?|letzte[n]?) )?(?:leser)?kommentare?\s*(?:\(\d+\))?\s*[:»›>]*$|kommentieren$"
    r"|diskussion\s*[:»›>]*$|comments?\s*[:»›>]*$"
    r"|(?:kommentar|antwort|eine antwort|einen kommentar) (?:verfassen|schreiben|hinterlassen|abgeben)"
    r"|schreib(?:e|en sie)? einen kommentar|hinterlasse(?:n sie)? (?:einen kommentar|eine antwort)"
    r"|diskutieren sie mit|kommentieren sie"
    r"|(?:ihre|deine) meinung(?: ist gefragt| zum thema)?\s*[:!?]*$|leave a (?:reply|comment)|write a (?:reply|comment)"
    r")"
)
#: A comments heading that is the bare word, with a count at most ("Kommentare", "3 Kommentare", "Kommentare (3)"):
#: as a line of its own it is also a tab's label or a jump link under the lead, so it ends the article only after
#: more article text than a heading that says what follows ("Schreibe einen Kommentar", "2 Kommentare zu …").
COMMENTS_BARE = (
    r"(?i)^(?:(?:\d+|ein|eine|zwei|drei|keine?)\s+)?(?:(?:die |unsere )?(?:neueste[n]?|letzte[n]?) )?"
    r"(?:leser)?(?:kommentare?|comments?|antworten|reaktionen|diskussion)\s*(?:\(\d+\))?\s*[:»›>]*$"
)
#: A blog post's or a column's sign-off under its last paragraph ("Euer Max", "Liebe Grüße, Anna", "XX, die Redaktion").
SIGN_OFF = (
    r"(?i)^(?:euer?|eure|dein|deine|xx+|xoxo|(?:liebe|viele|herzliche|beste|sonnige) grüße|lg|bis bald"
    r"|bis zum nächsten mal|cheers)(?:[\s,!.]|$)"
)
#: A heading that opens a list of other articles, an author or series box, or a list of sources. Such boxes also
#: stand inside an article, so one weighs against the run going on, it does not end it.
RELATED_HEADING = (
    r"(?i)^(?:"
    r"(?:das|dies(?:es)?|diese) (?:[\w-]+ ){0,2}könnten? (?:sie|dich|euch) (?:auch |ebenfalls )?interessieren"
    r"|(?:sie|dich|euch) könnten? (?:auch |ebenfalls )?interessieren|(?:auch|ebenfalls) interessant"
    r"|mehr themen|mehr (?:zu(?:m|r)?|über|von|aus) \S|entdecke(?:n sie)? (?:weitere|mehr)"
    r"|ähnliche (?:artikel|beiträge|themen|posts|news)"
    r"|verwandte (?:artikel|beiträge|themen)|weitere (?:artikel|beiträge|meldungen|nachrichten|news|berichte)"
    r"|mehr (?:zum thema|zu diesem thema|artikel|beiträge|aus (?:dem|der|unserem)"
    r" (?:ressort|rubrik|kategorie|bereich)|news)"
    r"|lesen sie (?:auch|mehr|weiter)|empfohlene (?:artikel|beiträge)|beliebte (?:artikel|beiträge)|meistgelesen"
    r"|(?:neueste|letzte|aktuelle|themenrelevante) (?:artikel|beiträge|nachrichten|meldungen|news)"
    r"|related (?:posts|articles|stories)"
    r"|top[- ]?themen|weitere interessante|empfehlungen (?:aus|der|für)"
    r"|you (?:may|might) also like|zum weiterlesen|auch lesen|passend zum thema"
    r"|weiterführende (?:links|artikel|informationen)"
    r"|mehr [\w-]+ (?:auf|bei) \S"
    # an author box: after the article, or inside it for a guest author
    r"|über (?:den|die) (?:autor|autorin|verfasser)(?:in)?|zur person|autoreninfo|über diese (?:reihe|serie)"
    # a list of sources or references under the article: citations, not article text
    r"|(?:quellen(?:angaben|verzeichnis)?|einzelnachweise|originalpublikation|originalveröffentlichung"
    r"|zusatzinformationen)\s*:?$"
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
# end punctuation, an agency/date signature such as "(APA, 12.2.2016)" that closes a paragraph, or an address
# after a colon ("Die Fotos finden Sie hier: https://…")
TERMINAL = r"[.!?…:;][\"“”„»«'’)\]]*$|\([^()]*\d{4}\)$|:\s*(?:https?://|www\.)[^\s]+$"
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
CREDIT = rf"(?i)\*\*\s*(?:https?://)?(?:www\.)?{DOMAIN_NAME}/?\s*\*\*|\[\s*(?:https?://)?(?:www\.)?{DOMAIN_NAME}/?\s*\]"


def domain_of(expr: pl.Expr) -> pl.Expr:
    """The bare lower-case domain in a string: no scheme, no ``www.``, no path."""
    return expr.str.to_lowercase().str.extract(rf"(?:https?://)?(?:www\.)?({DOMAIN_NAME})", 1)


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
