"""A small French news site served on loopback for the fetch/feeds tests.

``NewsSite`` runs a threaded ``http.server`` on 127.0.0.1 (a free port) and serves article
pages with realistic boilerplate (navigation, "most read" box, footer, cookie banner,
OpenGraph and ``article:published_time`` metadata), an RSS feed, an Atom feed, and the bad
cases: a page that is not an article, a 404, a slow page, huge pages, a PDF and a broken
feed. Feeds answer conditional requests with 304. Every request is logged with its headers.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Story:
    path: str
    title: str
    date: str  # ISO date
    author: str
    section: str
    paragraphs: tuple[str, ...]


BUDGET = Story(
    path="/politique/2025/09/18/budget-2026-le-gouvernement-presente-un-plan-d-economies.html",
    title="Budget 2026 : le gouvernement présente un plan de 40 milliards d'euros d'économies",
    date="2025-09-18",
    author="Claire Dumont",
    section="Politique",
    paragraphs=(
        "Le gouvernement a présenté jeudi 18 septembre son projet de budget pour 2026, qui prévoit "
        "40 milliards d'euros d'économies afin de ramener le déficit public à 4,6 % du produit intérieur brut.",
        "Le ministre de l'économie a détaillé un gel des dépenses de l'État, une réduction du nombre de "
        "fonctionnaires dans plusieurs administrations centrales et la suppression de deux jours fériés, "
        "une mesure qui a immédiatement suscité la colère des syndicats.",
        "Les collectivités locales devront contribuer à hauteur de cinq milliards d'euros. Les présidents "
        "de région dénoncent « une recentralisation qui ne dit pas son nom » et menacent de saisir le Conseil "
        "constitutionnel si le texte est adopté en l'état.",
        "À l'Assemblée nationale, les groupes d'opposition ont déjà annoncé le dépôt de motions de censure. "
        "Le débat sur la première partie du projet de loi de finances doit commencer à la mi-octobre.",
    ),
)

GREVE = Story(
    path="/economie/2025/09/17/greve-des-controleurs-aeriens-des-centaines-de-vols-annules.html",
    title="Grève des contrôleurs aériens : des centaines de vols annulés à Orly et Marseille",
    date="2025-09-17",
    author="Julien Marchand",
    section="Économie",
    paragraphs=(
        "Des centaines de vols ont été annulés mercredi dans les aéroports français en raison d'une grève "
        "des contrôleurs aériens, qui protestent contre leurs conditions de travail et le manque d'effectifs.",
        "La Direction générale de l'aviation civile a demandé aux compagnies de réduire de moitié leurs "
        "programmes de vols à Paris-Orly et d'un tiers à Marseille-Provence. Air France assure que tous ses "
        "vols long-courriers seront maintenus.",
        "Le syndicat majoritaire réclame le recrutement de trois cents contrôleurs supplémentaires d'ici "
        "2027 et une revalorisation des primes. Le ministre des transports a appelé les grévistes au dialogue.",
    ),
)

LUMIERE = Story(
    path="/culture/2025/09/16/le-festival-lumiere-rend-hommage-au-cinema-muet.html",
    title="À Lyon, le festival Lumière rend hommage au cinéma muet",
    date="2025-09-16",
    author="Sophie Berthier",
    section="Culture",
    paragraphs=(
        "Le festival Lumière, qui se tient chaque automne à Lyon dans la ville natale du cinématographe, "
        "consacrera sa prochaine édition au cinéma muet, avec plus de soixante films restaurés.",
        "Des ciné-concerts seront donnés à l'Auditorium et à la Halle Tony-Garnier, où un orchestre de "
        "quarante musiciens accompagnera la projection de « L'Aurore » de Murnau.",
        "Le directeur de l'Institut Lumière espère dépasser les deux cent mille spectateurs de l'an dernier "
        "et annonce un prix d'honneur remis à une grande figure du cinéma européen.",
    ),
)

CANICULE = Story(
    path="/sciences/2025/09/15/une-canicule-tardive-bat-des-records-dans-le-sud-ouest.html",
    title="Une canicule tardive bat des records de chaleur dans le Sud-Ouest",
    date="2025-09-15",
    author="Antoine Lefèvre",
    section="Sciences",
    paragraphs=(
        "Météo-France a relevé lundi 38,4 °C à Bordeaux-Mérignac, un record absolu pour une mi-septembre "
        "depuis le début des mesures en 1920, au troisième jour d'une vague de chaleur exceptionnellement tardive.",
        "Les climatologues rappellent que ces épisodes deviennent plus fréquents et plus intenses avec le "
        "réchauffement climatique : la saison des fortes chaleurs s'étend désormais de juin à septembre.",
        "Plusieurs préfectures ont pris des arrêtés de restriction d'eau et les vendanges ont été avancées "
        "dans une partie du vignoble bordelais pour protéger les raisins.",
    ),
)

STORIES = (BUDGET, GREVE, LUMIERE, CANICULE)
SITE_NAME = "Le Quotidien du Test"

NAV = """
<header class="site-header">
  <div class="cookie-banner">Nous utilisons des cookies pour améliorer votre expérience.
    <button>Tout accepter</button> <button>Paramétrer</button></div>
  <a class="logo" href="/">Le Quotidien du Test</a>
  <nav><ul>
    <li><a href="/rubrique/politique">Politique</a></li><li><a href="/rubrique/economie">Économie</a></li>
    <li><a href="/rubrique/culture">Culture</a></li><li><a href="/rubrique/sciences">Sciences</a></li>
    <li><a href="/abonnement">S'abonner</a></li><li><a href="/connexion">Se connecter</a></li>
  </ul></nav>
</header>"""

FOOTER = """
<aside class="most-read"><h2>Les plus lus</h2><ol>
  <li><a href="/a/1">Immobilier : les prix reculent pour le troisième trimestre consécutif</a></li>
  <li><a href="/a/2">Ligue 1 : le PSG s'impose au Vélodrome</a></li>
  <li><a href="/a/3">Rentrée scolaire : ce qui change cette année</a></li></ol></aside>
<footer><ul><li><a href="/mentions">Mentions légales</a></li><li><a href="/cgv">CGV</a></li>
  <li><a href="/contact">Nous contacter</a></li></ul>
  <p>© 2025 Le Quotidien du Test. Tous droits réservés. Reproduction interdite.</p></footer>"""


def article_page(story: Story, base: str) -> str:
    """The article as the site serves it."""
    body = "\n".join(f"    <p>{html.escape(p)}</p>" for p in story.paragraphs)
    title = html.escape(story.title)
    return f"""<!DOCTYPE html>
<html lang="fr-FR">
<head>
  <meta charset="utf-8">
  <title>{title} | {SITE_NAME}</title>
  <meta name="description" content="{html.escape(story.paragraphs[0][:150])}">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{title}">
  <meta property="og:site_name" content="{SITE_NAME}">
  <meta property="og:url" content="{base}{story.path}">
  <meta property="article:published_time" content="{story.date}T07:30:00+02:00">
  <meta property="article:section" content="{story.section}">
  <meta name="author" content="{html.escape(story.author)}">
  <link rel="canonical" href="{base}{story.path}">
</head>
<body>
{NAV}
<main>
  <article>
    <p class="breadcrumb"><a href="/">Accueil</a> › <a href="/rubrique">{story.section}</a></p>
    <h1>{title}</h1>
    <p class="byline">Par <span class="author">{html.escape(story.author)}</span>,
      publié le <time datetime="{story.date}T07:30:00+02:00">{story.date}</time></p>
{body}
    <div class="share">Partager : <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Copier le lien</a></div>
  </article>
</main>
{FOOTER}
</body>
</html>
"""


def amp_page(story: Story, base: str) -> str:
    """The same article in another template (a mobile/AMP edition at another URL)."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    title = html.escape(story.title)
    return f"""<!doctype html>
<html amp lang="fr">
<head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{base}{story.path}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{story.date}T07:30:00+02:00"></head>
<body><div class="amp-top"><a href="/">Le Quotidien du Test — édition mobile</a></div>
<div class="content"><h1>{title}</h1><div class="meta">{html.escape(story.author)}</div>
{body}
</div><div class="amp-footer"><a href="/">Version complète</a> · © 2025</div></body></html>
"""


SECTION_PAGE = f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Politique | {SITE_NAME}</title></head><body>{NAV}
<main><h1>Politique</h1><ul class="teasers">
<li><a href="{BUDGET.path}">Budget 2026</a></li><li><a href="/a/4">Sénatoriales</a></li>
<li><a href="/a/5">Réforme</a></li></ul></main>{FOOTER}</body></html>"""


def rss_feed(base: str, stories: list[Story], extra_items: str = "") -> str:
    items = "".join(
        f"""<item><title>{html.escape(s.title)}</title>
<link>{base}{s.path}?utm_source=rss&amp;utm_medium=flux</link>
<guid isPermaLink="false">quotidien-{s.date}-{s.section}</guid>
<pubDate>{rfc822(s.date)}</pubDate><author>redaction@quotidien.test ({html.escape(s.author)})</author>
<description>{html.escape(s.paragraphs[0])}</description></item>
"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{SITE_NAME} — À la une</title><link>{base}/</link>
<description>Les derniers articles</description><language>fr-fr</language>
{items}{extra_items}</channel></rss>
"""


def atom_feed(base: str, stories: list[Story]) -> str:
    entries = "".join(
        f"""<entry><title>{html.escape(s.title)}</title><link rel="alternate" href="{base}{s.path}#xtor=RSS-1"/>
<id>tag:quotidien.test,2025:{s.path}</id><updated>{s.date}T07:30:00+02:00</updated>
<published>{s.date}T07:30:00+02:00</published><author><name>{html.escape(s.author)}</name></author>
<summary>{html.escape(s.paragraphs[0])}</summary></entry>
"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{SITE_NAME} — Sciences</title>
<id>tag:quotidien.test,2025:sciences</id><updated>2025-09-18T08:00:00Z</updated>
<link rel="self" href="{base}/atom.xml"/>
{entries}</feed>
"""


def rfc822(date: str) -> str:
    import datetime as dt
    from email.utils import format_datetime

    day = dt.datetime.fromisoformat(f"{date}T07:30:00+02:00")
    return format_datetime(day)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients hang up on purpose
        pass


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream_chunks: int = 0  # >0: send body this many times, chunked, no Content-Length
    etag: str | None = None
    last_modified: str | None = None


class NewsSite:
    """The site; ``routes`` maps a path (query string ignored) to a :class:`Response`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.routes: dict[str, Response] = {}
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.rss_stories = [GREVE, LUMIERE]
        self.atom_stories = [CANICULE, BUDGET]
        self.setup_routes()

    def url(self, path: str) -> str:
        return self.base + path

    def setup_routes(self) -> None:
        b = self.base
        for story in STORIES:
            self.routes[story.path] = Response(body=article_page(story, b).encode())
        self.routes["/amp/budget-2026"] = Response(body=amp_page(BUDGET, b).encode())
        self.routes["/r/budget"] = Response(status=301, headers={"Location": BUDGET.path})
        self.routes["/rubrique/politique"] = Response(body=SECTION_PAGE.encode())
        self.routes["/lent"] = Response(body=article_page(GREVE, b).encode(), delay=3.0)
        self.routes["/enorme"] = Response(body=b"<p>" + b"bla " * 25_000 + b"</p>", stream_chunks=100)
        self.routes["/enorme-declare"] = Response(body=b"x" * 3_000_000)
        self.routes["/document.pdf"] = Response(body=b"%PDF-1.7\n" + b"\x00" * 5000, content_type="application/pdf")
        self.routes["/flux-casse.xml"] = Response(
            body=b"<?xml version='1.0'?><rss><channel><title>oops</title><item><titl",
            content_type="application/rss+xml",
        )
        self.publish_feeds()

    def publish_feeds(self, rss_extra: str = "") -> None:
        """(Re)build the feeds; a change gives new validators."""
        b = self.base
        rss = rss_feed(b, self.rss_stories, rss_extra).encode()
        self.routes["/rss.xml"] = Response(
            body=rss, content_type="application/rss+xml; charset=utf-8", etag=f'"rss-{hash(rss) & 0xffffff:x}"'
        )
        atom = atom_feed(b, self.atom_stories).encode()
        previous = self.routes.get("/atom.xml")
        if previous is not None and previous.body == atom:
            return  # unchanged: same Last-Modified (a new stamp would depend on the clock's second)
        self._atom_clock = max(time.time() // 1, getattr(self, "_atom_clock", 0) + 1)  # always a new stamp
        stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(self._atom_clock))
        self.routes["/atom.xml"] = Response(body=atom, content_type="application/atom+xml", last_modified=stamp)

    def seen(self, path: str) -> list[dict[str, str]]:
        """Headers of every request made for ``path``."""
        return [headers for p, headers in self.requests if p.split("?")[0] == path]

    def __enter__(self) -> NewsSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> Any:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = site.routes.get(self.path.split("?")[0].split("#")[0])
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.answer(route)

            def answer(self, route: Response | None) -> None:
                if route is None:
                    body = b"<html><body><h1>Page introuvable</h1></body></html>"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.stream_chunks:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for _ in range(route.stream_chunks):
                        self.wfile.write(f"{len(route.body):x}\r\n".encode() + route.body + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

        return Handler
