"""Side-by-side differences between two template versions, as HTML tables for the admin."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from prompts.models import PromptTemplate
from prompts.samples import sample_lines

DIFF_COLUMN_WIDTH = 80


@dataclass(frozen=True)
class Section:
    title: str
    changed: bool
    table: str  # difflib.HtmlDiff's table: the admin's template marks it safe


def settings_text(template: PromptTemplate) -> str:
    return "\n".join(
        [
            f"model: {template.model or '(routing)'}",
            f"temperature: {template.temperature}",
            f"max_tokens: {template.max_tokens}",
            f"json_mode: {template.json_mode}",
        ]
    )


def rendered_text(template: PromptTemplate, *, lines: tuple[str, ...]) -> str:
    messages = template.render(lines=list(lines), fields=template.document_type.field_specs())
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def diff_sections(old: PromptTemplate, new: PromptTemplate) -> list[Section]:
    """The system prompt, the user prompt, the model settings and the rendered prompt of a sample
    document of ``new``'s type, each as a side-by-side table of ``old`` against ``new``."""
    lines = sample_lines(new.document_type.key)
    pairs = [
        ("System prompt", old.system_prompt, new.system_prompt),
        ("User prompt", old.user_prompt, new.user_prompt),
        ("Model settings", settings_text(old), settings_text(new)),
        (
            "Rendered prompt for a sample document",
            rendered_text(old, lines=lines),
            rendered_text(new, lines=lines),
        ),
    ]
    differ = difflib.HtmlDiff(wrapcolumn=DIFF_COLUMN_WIDTH)
    return [
        Section(
            title=title,
            changed=a != b,
            # HtmlDiff escapes the text it shows.
            table=differ.make_table(
                a.splitlines(), b.splitlines(), old.label, new.label, context=False
            ),
        )
        for title, a, b in pairs
    ]
