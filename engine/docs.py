"""The generated pages of docs/: written by `make docs`, checked by a test."""

from __future__ import annotations

import json
from pathlib import Path

from attain import schema, tables
from attain.output import write_text
from attain.schema.reference import markdown_reference

__all__ = ["generated_pages", "write_pages"]


def generated_pages() -> dict[str, str]:
    """Relative path → text of every generated documentation page."""
    return {
        "docs/rules.md": markdown_reference(),
        "docs/data.md": tables.markdown_reference(),
        "engine/rules.schema.json": schema_json(),
    }


def schema_json() -> str:
    """The text of the shipped JSON Schema that ``attain schema`` prints."""
    return json.dumps(schema.schema_document(), indent=2, sort_keys=True) + "\n"


def write_pages(root: str | Path) -> list[Path]:
    return [write_text(Path(root) / name, text) for name, text in generated_pages().items()]


if __name__ == "__main__":
    write_pages(Path.cwd())
