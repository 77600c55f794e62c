"""The feeds file (``NEWSBOT_FEEDS_FILE``) edited by ``/feeds add|remove``: one URL per line, comments kept."""

from __future__ import annotations

from pathlib import Path

from retrieval.errors import ConfigError
from retrieval.ingest.feeds import read_feed_list
from retrieval.ingest.fetch import canonical_url, check_url
from retrieval.locks import file_lock


def feeds(path: Path) -> list[str]:
    try:
        return read_feed_list(path)
    except ConfigError:
        if path.exists():
            raise
        return []


def add_feed(path: Path, url: str) -> bool:
    """Append ``url`` (an absolute http(s) URL); False if it was already listed."""
    url = check_url(url.strip())
    with file_lock(path.with_name(f".{path.name}.lock")):
        known = {canonical_url(u) for u in feeds(path)}
        if canonical_url(url) in known:
            return False
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + url + "\n", encoding="utf-8")
    return True


def remove_feed(path: Path, url: str) -> bool:
    """Remove the line of ``url`` (compared canonically); False if it was not listed."""
    wanted = canonical_url(url.strip())
    with file_lock(path.with_name(f".{path.name}.lock")):
        if not path.exists():
            return False
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [
            line for line in lines
            if line.lstrip().startswith("#") or not line.strip()
            or canonical_url(line.split(" #", 1)[0].strip()) != wanted
        ]
        if len(kept) == len(lines):
            return False
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return True
