"""Writing ``.env.example`` from the settings object, so that it never drifts from it."""

from __future__ import annotations

from typing import Any

from retrieval.settings import Settings


def env_name(name: str, field: Any) -> str:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"NEWSBOT_{name.upper()}"


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
        "# Every setting can also be given in the environment. Generated from retrieval/settings.py",
        "# by `python -m retrieval.envfile > .env.example`; a test checks that it is up to date.",
        "",
    ]
    for name, field in Settings.model_fields.items():
        if field.description:
            lines.append(f"# {field.description}")
        lines.append(f"{env_name(name, field)}={default_text(field)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render_env_example())
