"""Outlets (news sources) and how a name in a question is matched to the ones in the index.

An outlet is known by its ``source`` metadata (« Exemple Info », ``bbc.co.uk``) and by the host of
its articles' URLs. Both are folded (case, accents, ``www.``, punctuation and spaces dropped), and
the host also gives its site label (``feeds.bbci.co.uk`` → ``bbci``), so « la BBC », "BBC", "bbc.co.uk"
or « exemple-info.fr » find them. A name may also be one letter short of a key (« BBC » → ``bbci``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from retrieval.types import QueryScope

# second-level labels under a country code (bbc.co.uk, news.com.au): not the site's own name
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "gouv", "ac", "edu", "ne", "or", "info"}


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only: « Le Monde » and "lemonde" fold alike."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.removeprefix("www.")
    return re.sub(r"[^0-9a-z]+", "", text)


def host_of(url: str | None) -> str | None:
    """The URL's host without ``www.`` (None for no URL or no host)."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.lower().removeprefix("www.")


def site_label(host: str) -> str:
    """The site's own name in a host: ``feeds.bbci.co.uk`` → ``bbci``, ``fr.africanews.com`` → ``africanews``."""
    parts = [p for p in host.lower().split(".") if p]
    if len(parts) > 1:
        parts = parts[:-1]  # the top-level domain
    if len(parts) > 1 and parts[-1] in _SECOND_LEVEL:
        parts = parts[:-1]
    return parts[-1] if parts else host


def _looks_like_host(text: str) -> bool:
    return bool(re.fullmatch(r"[\w-]+(\.[\w-]+)+", text.strip().lower()))


def outlet_keys(source: str | None, url: str | None) -> set[str]:
    """The folded names an outlet is known by."""
    keys: set[str] = set()
    if source:
        keys.add(fold(source))
        if _looks_like_host(source):
            keys.add(fold(site_label(source.lower().removeprefix("www."))))
    host = host_of(url)
    if host:
        keys.add(fold(host))
        keys.add(fold(site_label(host)))
    return {k for k in keys if k}


def outlet_name(source: str | None, url: str | None) -> str | None:
    """The name an outlet goes by in a scope: its ``source``, else its URL's host."""
    return source or host_of(url)


def key_matches(name: str, key: str) -> bool:
    """Does a folded name from a question designate this folded key?"""
    if name == key:
        return True
    # « BBC » for bbci, « Le Monde » for lemonde.fr: one trailing character of slack on 3+ letters
    return len(name) >= 3 and key.startswith(name) and len(key) - len(name) <= 1


@dataclass
class OutletDirectory:
    """The outlets present in the index: name -> folded keys."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    aliases: dict[str, set[str]] = field(default_factory=dict)  # name -> the sources and hosts it goes by

    @classmethod
    def from_metadatas(cls, metadatas: Iterable[dict[str, object]]) -> OutletDirectory:
        directory = cls()
        for meta in metadatas:
            source = meta.get("source")
            url = meta.get("url")
            directory.add(str(source) if source else None, str(url) if url else None)
        return directory

    def add(self, source: str | None, url: str | None) -> None:
        name = outlet_name(source, url)
        if not name:
            return
        keys = outlet_keys(source, url)
        aliases = {a for a in (source, host_of(url)) if a}
        if not source:  # an article without a source joins the named outlet of its host, if any
            owner = next((n for n, known in self.keys.items() if n != name and keys & known), None)
            if owner is not None:
                self.keys[owner].update(keys)
                self.aliases[owner].update(aliases)
                return
        else:  # and a host listed alone before its named outlet was seen joins it
            for alone in [n for n, known in self.keys.items() if n != name and n == host_of(url)]:
                keys |= self.keys.pop(alone)
                aliases |= self.aliases.pop(alone, set())
        self.keys.setdefault(name, set()).update(keys)
        self.aliases.setdefault(name, set()).update(aliases)

    @property
    def names(self) -> list[str]:
        return sorted(self.keys)

    def find(self, text: str) -> list[str]:
        """The outlets a name (« la BBC », "lemonde.fr") designates; exact keys win over slack."""
        names = {fold(text), fold(re.sub(r"^(?:l['’]|la |le |les |the )", "", text.strip(), flags=re.I))}
        names = {n for n in names if len(n) >= 2}
        exact = [outlet for outlet, keys in self.keys.items() if names & keys]
        if exact:
            return sorted(exact)
        return sorted(
            outlet for outlet, keys in self.keys.items() if any(key_matches(n, k) for n in names for k in keys)
        )

    def resolve(self, names: Iterable[str]) -> tuple[str, ...]:
        """Explicit outlet options (``ask --source``) mapped to the outlets of the index; an unknown
        name is kept as given (the filter then matches nothing; the service reports such a name as
        an error before asking)."""
        found: list[str] = []
        for name in names:
            hits = self.find(name) or [name]
            found.extend(h for h in hits if h not in found)
        return tuple(found)


def index_scope(scope: QueryScope, directory: OutletDirectory) -> QueryScope:
    """The scope as the index filters it: each outlet given as every source name and URL host its
    articles carry (the index matches those, folded by :func:`retrieval.index.scope.outlet_key`)."""
    if not scope.sources:
        return scope
    names: list[str] = []
    for outlet in scope.sources:
        for alias in sorted(directory.aliases.get(outlet, {outlet})):
            if alias not in names:
                names.append(alias)
    return replace(scope, sources=tuple(names))
