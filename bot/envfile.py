"""Writing ``.env.example`` from the settings object, so that it never drifts from it."""

from __future__ import annotations

from typing import Any

from bot.settings import AppSettings
from retrieval.settings import env_names, sections


def default_text(field: Any) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def render_env_example() -> str:
    lines = [
        "# newsbot settings: copy to .env and change what you need.",
        "# Every setting can also be given in the environment. Generated from retrieval/settings.py and",
        "# bot/settings.py by `python -m bot.envfile > .env.example`; a test checks that it is up to date.",
        "",
    ]
    groups = sections(AppSettings)
    for env, path in env_names(AppSettings).items():
        owner = groups[path[0]] if len(path) > 1 else AppSettings
        field = owner.model_fields[path[-1]]
        if len(path) > 1 and path[1] == next(iter(owner.model_fields)):
            lines.append(f"# --- {path[0]} " + "-" * 60)
            lines.append("")
        if field.description:
            lines.append(f"# {field.description}")
        lines.append(f"{env}={default_text(field)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render_env_example())
