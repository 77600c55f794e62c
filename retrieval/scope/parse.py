"""What a question says about time and outlets: a :class:`~retrieval.types.QueryScope`.

« hier », « cette semaine », « en août », « depuis le 18 août », « le 15 août », "last month",
"in October", "since the summit" become a date range; « dernières nouvelles », "latest",
« actuellement », « finalement », "now"… a preference for the newest articles; « selon Le Monde »,
"according to the BBC", « que dit TASS » the outlets of the index they name.

The grammar around dates (depuis/since, entre … et/between … and, le/on, en/in…) is handled here
with regular expressions, because parsers do not know it (dateparser reads « depuis lundi » as
nothing); the date expressions themselves (« 18 août », "October 29", « lundi », "3 weeks ago")
are read by dateparser, relative to the reference day.

Ranges are of publication dates. A question about an event on a day or in a month (« que s'est-il
passé le 22 octobre ») is answered by articles published from that day on, and reports come a
little later than what they report: the range ends a reporting lag after the period (3 days after a
day, 7 after a week, a month after a month, three months after a year). « publiés aujourd'hui »,
"published in August" (publication itself) get no lag.

A day or month without a year is placed in the most recent year before the reference day for which
the coverage has articles (« le 18 août » asked in 2026 about 2025 coverage means 2025).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from retrieval.scope.coverage import Coverage, EventDate
from retrieval.types import QueryScope

MONTHS = (
    r"janv(?:ier|\.)?|f[ée]vr(?:ier|\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|ao[uû]t|"
    r"sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan\.?|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sep\.?|oct\.?|nov\.?|dec\.?"
)
WEEKDAYS = (
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_YEAR = r"(?:19|20)\d{2}(?![\d\-–/])"
# a date expression, the longest shapes first; named groups tell its granularity
DATE = (
    r"(?:(?P<iso>\d{4}-\d{2}-\d{2})"
    rf"|(?P<dmy>\d{{1,2}}(?:er|st|nd|rd|th)?\s+(?:{MONTHS})(?:\s+{_YEAR})?)"
    rf"|(?P<mdy>(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+{_YEAR})?)"
    rf"|(?P<my>(?:{MONTHS})(?:\s+(?:de\s+l['’]ann[ée]e\s+)?{_YEAR})?)"
    rf"|(?P<wd>(?:{WEEKDAYS})(?:\s+dernier|\s+pass[ée])?)"
    rf"|(?P<y>{_YEAR}))"
)
_B = r"(?<![\w])"  # a word start
_E = r"(?![\w])"  # a word end

LAG = {"day": dt.timedelta(days=3), "week": dt.timedelta(days=7), "month": dt.timedelta(days=31),
       "year": dt.timedelta(days=92)}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    kind: str  # day, week, month, year


@dataclass
class Understood:
    """A question read for its scope: the scope it states, the text to search with, and notes
    for the user (an event dated from the coverage)."""

    scope: QueryScope
    query: str
    events: list[EventDate] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # removed from the query
    asks_latest: bool = False  # asks for the newest on its subject (:data:`LATEST`)


# --- date expressions ------------------------------------------------------------------


def _dateparse(text: str, reference: dt.date) -> dt.date | None:
    """A date expression read by dateparser, relative to ``reference``, preferring the past."""
    import dateparser

    settings: dict[str, Any] = {
        "RELATIVE_BASE": dt.datetime.combine(reference, dt.time(12)),
        "PREFER_DATES_FROM": "past",
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(text, languages=["fr", "en"], settings=settings)  # type: ignore[arg-type]
    return parsed.date() if parsed else None


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(match: re.Match[str], reference: dt.date, coverage: Coverage | None) -> Period | None:
    """The period a :data:`DATE` match names, its year chosen from the coverage when not given."""
    text = match.group(0)
    if match.group("y"):
        year = int(text)
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")
    if match.group("iso"):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return None
        return Period(day, day, "day")
    if match.group("wd"):
        weekday = _dateparse(re.sub(r"\s+(dernier|pass[ée])$", "", text, flags=re.I), reference)
        if weekday is not None and weekday >= reference:
            weekday -= dt.timedelta(days=7)
        return Period(weekday, weekday, "day") if weekday else None
    has_year = re.search(_YEAR, text) is not None
    month_only = bool(match.group("my"))
    clean = re.sub(r"de\s+l['’]ann[ée]e\s+", "", text, flags=re.I)
    parsed = _dateparse(f"1 {clean}" if month_only else clean, reference)
    if parsed is None:
        return None
    if month_only:
        start, kind = parsed.replace(day=1), "month"
        end = _month_end(start)
    else:
        start = end = parsed
        kind = "day"
    if not has_year:
        start, end = _place_year(start, end, kind, reference, coverage)
    return Period(start, end, kind)


def _shift_year(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _place_year(
    start: dt.date, end: dt.date, kind: str, reference: dt.date, coverage: Coverage | None
) -> tuple[dt.date, dt.date]:
    """A day or month given without its year: the latest one not after the reference day for which the
    coverage has articles (within the reporting lag); else the latest one not after the reference day."""
    while start > reference:
        start, end = _shift_year(start, -1), _shift_year(end, -1)
        if kind == "month":
            end = _month_end(end)
    if coverage is None or not coverage.dated():
        return start, end
    for back in range(0, 4):
        s, e = _shift_year(start, -back), _shift_year(end, -back)
        if kind == "month":
            e = _month_end(e)
        if coverage.has_articles_between(s, e + LAG[kind]):
            return s, e
    newest = coverage.newest_day()
    while newest is not None and start > newest:  # a day the coverage has not reached yet is last year's
        start, end = _shift_year(start, -1), _shift_year(end, -1)
        if kind == "month":
            end = _month_end(end)
    return start, end


def _before(first: Period, second: Period) -> Period:
    """``first`` (given without its year) moved to the last year in which it does not follow ``second``."""
    years = second.start.year - first.start.year
    start, end = _shift_year(first.start, years), _shift_year(first.end, years)
    if start > second.start:
        start, end = _shift_year(start, -1), _shift_year(end, -1)
    if first.kind == "month":
        end = _month_end(end)
    return Period(start, end, first.kind)


# --- relative expressions ------------------------------------------------------------------


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    year, month = day.year, day.month - back
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


Relative = Callable[[dt.date, re.Match[str]], Period]

_LONGEST_DAYS = 100 * 365  # a span longer than any coverage
_UNITS = {"jour": 1, "day": 1, "semaine": 7, "week": 7, "mois": 30, "month": 30, "an": 365, "année": 365,
          "annee": 365, "year": 365}


def _n_units(m: re.Match[str]) -> int:
    n = m.group("n")
    words = {"un": 1, "une": 1, "a": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3}
    count = int(n) if n and n.isdigit() else words.get((n or "un").lower(), 1)
    unit = m.group("unit").lower().rstrip("s")
    return min(count * _UNITS.get(unit, 1), _LONGEST_DAYS)  # « depuis 3000 ans »: no date before year 1


_UNIT = r"(?P<unit>jours?|semaines?|mois|ans?|ann[ée]es?|days?|weeks?|months?|years?)"
_N = r"(?P<n>\d+|une?|deux|trois|a|one|two|three)"

# (pattern, period, sets since only?) — the period of a relative expression, from the reference day
RELATIVE: list[tuple[str, Relative, bool]] = [
    (r"avant[- ]hier|the day before yesterday",
     lambda r, m: Period(r - dt.timedelta(days=2), r - dt.timedelta(days=2), "day"), False),
    (r"hier|yesterday|last night|cette nuit",
     lambda r, m: Period(r - dt.timedelta(days=1), r - dt.timedelta(days=1), "day"), False),
    (r"(?:cette|this) (?:semaine|week)",
     lambda r, m: Period(_monday(r), r, "week"), False),
    (r"(?:la|last) (?:semaine|week)(?: (?:derni[èe]re|pass[ée]e))?|the past week|the previous week",
     lambda r, m: Period(_monday(r) - dt.timedelta(days=7), _monday(r) - dt.timedelta(days=1), "week"), False),
    (r"(?:ce|this) mois(?:-ci)?|this month",
     lambda r, m: Period(_month_start(r), r, "month"), False),
    (r"(?:le|last) (?:mois|month)(?: (?:dernier|pass[ée]))?|the previous month",
     lambda r, m: Period(_month_start(r, 1), _month_start(r) - dt.timedelta(days=1), "month"), False),
    (r"(?:cette|this) ann[ée]e|this year",
     lambda r, m: Period(dt.date(r.year, 1, 1), r, "year"), False),
    (r"l['’]an(?:n[ée]e)? (?:derni[èe]re?|pass[ée]e?)|last year|the previous year",
     lambda r, m: Period(dt.date(r.year - 1, 1, 1), dt.date(r.year - 1, 12, 31), "year"), False),
    (rf"(?:les|ces|au cours des|durant les|pendant les) {_N} derniers? {_UNIT}",
     lambda r, m: Period(r - dt.timedelta(days=_n_units(m)), r, "day"), True),
    (rf"(?:in |over |during )?the (?:last|past) {_N} {_UNIT}",
     lambda r, m: Period(r - dt.timedelta(days=_n_units(m)), r, "day"), True),
    (rf"depuis {_N} {_UNIT}",
     lambda r, m: Period(r - dt.timedelta(days=_n_units(m)), r, "day"), True),
    (r"ces derniers jours|ces jours-ci|in the last few days|in recent days|these days",
     lambda r, m: Period(r - dt.timedelta(days=7), r, "day"), True),
    (rf"il y a {_N} {_UNIT}",
     lambda r, m: Period(r - dt.timedelta(days=_n_units(m)), r - dt.timedelta(days=_n_units(m)), "day"), False),
    (rf"{_N} {_UNIT} ago",
     lambda r, m: Period(r - dt.timedelta(days=_n_units(m)), r - dt.timedelta(days=_n_units(m)), "day"), False),
]

_PUBLISHED = re.compile(r"\b(?:publi[ée]e?s?|parus?|published|posted)\b", re.I)  # publication itself: no lag

# words that ask about the present: newer articles are preferred
RECENT = re.compile(
    _B + r"(?:derni[èe]res? nouvelles|derni[èe]re heure|dernier|derni[èe]re|derniers|derni[èe]res|"
    r"plus r[ée]cente?s?|r[ée]cemment|aujourd['’]hui|actuellement|actuel(?:le)?s?|en ce moment|maintenant|"
    r"d[ée]sormais|finalement|quoi de neuf|du nouveau|what['’]?s new|what is new|[àa] ce jour|o[uù] en (?:est|sont)|toujours|[ée]volu[ée]e?s?|[ée]volution|"
    r"a chang[ée]|chang[ée] entre|au final|"
    r"latest|most recent|newest|recent(?:ly)?|now|nowadays|currently|current|today|finally|ultimately|"
    r"at present|so far|still|as of|evolved?|changed?|updated?|where (?:do|does) .{0,40}? stand|"
    r"in the end|eventually)" + _E,
    re.I,
)
# among them, words asking for the newest *on a subject* (« la dernière coupure », « où en sont les
# négociations », "the most recent exchange"): when no sentence answers, the newest article on it does
LATEST = re.compile(
    _B + r"(?:(?:le|la|les|l['’])\s*(?:derni[èe]re?s?|plus r[ée]cente?s?)|o[uù] en (?:est|sont)|quoi de neuf|"
    r"du nouveau|latest|most recent|newest|what['’]?s new|what is new|where (?:do|does) .{0,40}? stand)" + _E,
    re.I,
)
# the pure scope words among them, removed from the text searched with
_RECENT_NOISE = re.compile(
    _B + r"(?:les )?(?:derni[èe]res nouvelles|derni[èe]re heure|plus r[ée]cente?s?|r[ée]cemment|"
    r"aujourd['’]hui|actuellement|en ce moment|maintenant|d[ée]sormais|finalement|[àa] ce jour|au final|"
    r"(?:the )?latest|(?:the )?most recent|newest|recently|right now|now|nowadays|currently|today|finally|"
    r"at present|so far|as of now|(?:reported |covered )?in the coverage|dans la couverture)" + _E,
    re.I,
)

# an outlet introduced by the question: « selon Le Monde », "according to the BBC", « que dit TASS »
OUTLET_INTRO = re.compile(
    _B + r"(?:selon|d['’]apr[èe]s|que (?:dit|disent|rapporte|rapportent|raconte|[ée]crit|affirme|publie)|"
    r"qu['’](?:a dit|a rapport[ée]|a [ée]crit|[ée]crit|affirme)|"
    r"according to|as reported by|reported by|"
    r"(?P<ask>what (?:does|did|do|has|have)|how (?:does|did|has|have)))\s+",
    re.I,
)
# after "what does X …", X is an outlet only when a reporting verb follows ("what does China export" is not)
_REPORTING = re.compile(r"\s*(?:say|said|report|reported|write|wrote|tell|told|claim|claimed|describe|cover|"
                        r"publish|published|note|noted|reveal|revealed)\b", re.I)
_NAME_WORD = re.compile(r"[\w'’.&-]+", re.UNICODE)

# an event named after "since/after/before": « depuis le sommet d'Alaska », "after the summit"
EVENT = re.compile(
    _B + r"(?P<rel>depuis|apr[èe]s|avant|since|after|before)\s+(?P<phrase>(?:l['’]|le |la |les |the )"
    r"[^?.!;:]{3,80}?)(?=\s*(?:[?.!;:]|$)|,\s+(?-i:(?![A-ZÉ]))|"
    r"\s(?:et|and|que|qui|what|who|did|a-t-il|ont|was|were|is|est)\s+(?-i:(?![A-ZÉ])))",
    re.I,
)


def _scan_dates(text: str, reference: dt.date, coverage: Coverage | None,
                taken: list[tuple[int, int]], removed: list[tuple[int, int]]
                ) -> tuple[dt.date | None, dt.date | None, bool]:
    """(since, until, any date found) from the date expressions of ``text`` with their grammar."""
    since: dt.date | None = None
    until: dt.date | None = None
    found = False
    published = bool(_PUBLISHED.search(text))

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def lag(p: Period) -> dt.timedelta:
        return dt.timedelta(0) if published else LAG[p.kind]

    def widen(p: Period, *, since_only: bool = False) -> None:
        nonlocal since, until, found
        found = True
        since = p.start if since is None else min(since, p.start)
        if not since_only:
            end = p.end + lag(p)
            until = end if until is None else max(until, end)

    # between / from … to
    between = re.compile(
        _B + rf"(?:entre(?: le| la)?|between|du|from)\s+(?P<a>{DATE.replace('?P<', '?P<a_')}|\d{{1,2}}(?:er)?)"
        rf"\s+(?:et(?: le| la)?|and|au|to|until|till|-|–)\s+(?P<b>{DATE.replace('?P<', '?P<b_')})" + _E,
        re.I,
    )
    for m in between.finditer(text):
        if not free(*m.span()):
            continue
        second = re.fullmatch(DATE, m.group("b"), re.I)
        p2 = period_of(second, reference, coverage) if second else None
        if p2 is None:
            continue
        first_text = m.group("a")
        if re.fullmatch(r"\d{1,2}(?:er)?", first_text):
            try:
                p1: Period | None = Period(p2.start.replace(day=int(re.sub(r"\D", "", first_text))), p2.start, "day")
            except ValueError:
                p1 = None
        else:
            first = re.fullmatch(DATE, first_text, re.I)
            p1 = period_of(first, reference, coverage) if first else None
            if p1 is not None and re.search(_YEAR, first_text) is None and re.search(_YEAR, m.group("b")):
                # « entre octobre et décembre 2025 »: the first in the second's year, or the year before
                p1 = _before(p1, p2)
        if p1 is None:
            continue
        widen(Period(min(p1.start, p2.start), max(p1.end, p2.end), p2.kind))
        taken.append(m.span())

    grammar = [
        (rf"(?:depuis(?: le| la| l['’])?|[àa] partir du|[àa] partir de(?: la)?|since|starting)\s+(?:the\s+)?({DATE})",
         "since"),
        (rf"(?:apr[èe]s(?: le| la)?|after|later than)\s+(?:the\s+)?({DATE})", "after"),
        (rf"(?:avant(?: le| la)?|before|until|jusqu['’]au|jusqu['’][àa])\s+(?:the\s+)?({DATE})", "before"),
        (rf"(?:le|la|en|au mois d['’]|au mois de|au cours de|au fil de|durant|pendant|depuis début|"
         rf"on|in|during|of|throughout|for)\s+(?:the\s+)?({DATE})", "in"),
        (rf"({DATE})", "bare"),
    ]
    for pattern, how in grammar:
        for m in re.finditer(_B + pattern + _E, text, re.I):
            if not free(*m.span()):
                continue
            inner = re.fullmatch(DATE, m.group(1), re.I)
            if inner is None:
                continue
            if how == "bare" and inner.group("y"):
                continue  # a lone year is too often a name (« budget 2026 », "Vision 2030")
            p = period_of(inner, reference, coverage)
            if p is None:
                continue
            taken.append(m.span())
            if inner.group("wd"):
                removed.append(m.span())  # « depuis lundi »: the weekday would mislead the search
            if how == "since":
                widen(p, since_only=True)
            elif how == "after":
                widen(Period(p.end + dt.timedelta(days=1), p.end, p.kind), since_only=True)
            elif how == "before":
                found = True
                end = p.start - dt.timedelta(days=1)
                until = end if until is None else max(until, end)
            else:
                widen(p)
    return since, until, found


def understand(
    question: str,
    reference: dt.date,
    coverage: Coverage | None = None,
) -> Understood:
    """Read the scope a question states (dates, outlets, a wish for the newest) and the text to
    search with (its scope words removed when they would mislead retrieval)."""
    text = question
    taken: list[tuple[int, int]] = []  # spans already read as scope
    removed: list[tuple[int, int]] = []  # spans removed from the search text
    since: dt.date | None = None
    until: dt.date | None = None
    published = bool(_PUBLISHED.search(text))

    # relative expressions first (« le mois dernier » is not « le mois » + « dernier »)
    for pattern, period, since_only in RELATIVE:
        for m in re.finditer(_B + rf"(?:{pattern})" + _E, text, re.I):
            if any(not (m.end() <= s or m.start() >= e) for s, e in taken):
                continue
            p = period(reference, m)
            since = p.start if since is None else min(since, p.start)
            if not since_only:  # what happened on a past day is reported up to the next day
                end = p.end + dt.timedelta(days=1 if p.kind == "day" and not published else 0)
                end = min(end, reference)
                until = end if until is None else max(until, end)
            taken.append(m.span())
            removed.append(m.span())

    # events dated from the coverage
    events: list[EventDate] = []
    if coverage is not None:
        for m in EVENT.finditer(text):
            if any(not (m.end() <= s or m.start() >= e) for s, e in taken):
                continue
            phrase = m.group("phrase")
            if re.fullmatch(rf"(?:l['’]|le |la |les |the )\s*(?:{DATE}).*", phrase, re.I):
                continue  # a date, read below
            event = coverage.date_event(phrase)
            if event is None:
                continue
            events.append(event)
            taken.append(m.span())
            rel = m.group("rel").lower()
            if rel in ("avant", "before"):
                end = event.day - dt.timedelta(days=1)
                until = end if until is None else min(until, end)
            else:
                since = event.day if since is None else max(since, event.day)

    s2, u2, _ = _scan_dates(text, reference, coverage, taken, removed)
    if s2 is not None:
        since = s2 if since is None else max(since, s2)
    if u2 is not None:
        until = u2 if until is None else min(until, u2)

    # outlets
    sources: list[str] = []
    if coverage is not None:
        for m in OUTLET_INTRO.finditer(text):
            words = list(_NAME_WORD.finditer(text, m.end()))
            words = [w for w in words if w.start() - m.end() < 80][:6]
            # the longest run of words naming an outlet, its article included or not (« Le Monde », « la BBC »)
            leads = [0, 1] if words and words[0].group(0).lower() in ("la", "le", "les", "the") else [0]
            best: tuple[int, list[str]] | None = None
            for lead in leads:
                for n in range(min(len(words), lead + 4), lead, -1):
                    if m.group("ask") and not _REPORTING.match(text, words[n - 1].end()):
                        continue
                    name = re.sub(r"^l['’]", "", text[words[lead].start():words[n - 1].end()])
                    hits = coverage.outlets.find(name)
                    if hits:
                        if best is None or n > best[0]:
                            best = (n, hits)
                        break
            if best is not None:
                sources.extend(h for h in best[1] if h not in sources)
                removed.append((m.start(), words[best[0] - 1].end()))

    prefer_recent = False
    rest = _without(text, taken)
    if RECENT.search(rest):
        prefer_recent = True
    for m in _RECENT_NOISE.finditer(text):
        removed.append(m.span())
    today_published = re.search(
        _B + r"(?:publi[ée]e?s? aujourd['’]hui|d['’]aujourd['’]hui|du jour|published today|today['’]s)" + _E, text, re.I
    )
    if today_published:
        since = until = reference

    query = _without(question, removed).strip(" ,;:-")
    if not has_subject(query):
        query = ""
    scope = QueryScope(
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        sources=tuple(sources),
        prefer_recent=prefer_recent,
    )
    asks_latest = bool(query) and LATEST.search(rest) is not None
    return Understood(scope=scope, query=query, events=events, spans=removed, asks_latest=asks_latest)


# words of a question that name no subject: « Quelles sont les nouvelles ? », "What's new?"
_GENERIC_WORDS = """
quel quelle quels quelles est sont c ce cet cette ces les le la l des de du d un une qu que quoi qui il elle y a t
s ont été passé passe passés arrivé arrivée nouvelles nouvelle neuf news actualité actualités actu actus info infos
information informations article articles résume résumer résumé résumez donne donner moi me dis dites publiés
publiées publié parus paru sortis sujet sujets en et ou au aux sur dans quoi comment the what whats what's is are
was were new happened happening going on any there tell give summarize summarise summary published stories story
headlines of in a an me us please
"""
_GENERIC = frozenset(_GENERIC_WORDS.split())


def has_subject(query: str) -> bool:
    """Does the text name a subject, once scope words are removed (not just « quelles sont les nouvelles »)?"""
    words = re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+", query.lower())
    return any(w.replace("’", "'") not in _GENERIC for w in words)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            start = last
        if start >= end:
            continue
        out.append(text[last:start])
        last = end
    out.append(text[last:])
    return re.sub(r"\s{2,}", " ", " ".join(part.strip() for part in out if part.strip()))


def merge(explicit: QueryScope | None, parsed: QueryScope) -> QueryScope:
    """The scope of a question: explicit options win, field by field, over what the question says."""
    if explicit is None:
        return parsed
    return QueryScope(
        since=explicit.since or parsed.since,
        until=explicit.until or parsed.until,
        sources=explicit.sources or parsed.sources,
        prefer_recent=explicit.prefer_recent or parsed.prefer_recent,
    )
