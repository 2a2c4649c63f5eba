"""The Spanish catalogues: complete, and safe to format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")

CATALOGUES = {
    "host": (
        ROOT / "host_stub/translations/es/LC_MESSAGES/messages.po",
        [("host_stub/**.py", "python"), ("host_stub/templates/**.html", "jinja2")],
    ),
    "clientflow": (
        ROOT / "clientflow_plugin/translations/es/LC_MESSAGES/messages.po",
        [
            ("clientflow_plugin/**.py", "python"),
            ("blueprints/**.py", "python"),
            ("templates/**.html", "jinja2"),
        ],
    ),
}


def lone_percents(text: str) -> int:
    return PLACEHOLDER.sub("", text).replace("%%", "").count("%")


def load(name):
    path, _ = CATALOGUES[name]
    with path.open("rb") as f:
        return read_po(f)


def messages_in_code(name) -> set[str]:
    _, method_map = CATALOGUES[name]
    keywords = {
        "_": None,
        "_l": None,
        "gettext": None,
        "lazy_gettext": None,
        "ngettext": (1, 2),
        "lazy_ngettext": (1, 2),
    }
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_message_of_the_code_has_a_spanish_translation(name):
    catalogue = load(name)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }

    missing = sorted(messages_in_code(name) - translated)

    assert missing == []


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_translations_keep_placeholders_and_format_safely(name):
    problems = []
    for message in load(name):
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = (
            [message.string] if isinstance(message.string, str) else message.string
        )
        for msgid, msgstr in zip(ids, strings, strict=False):
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(
                PLACEHOLDER.findall(msgstr)
            ):
                problems.append(msgid)
            # Templates %-format translated text: a lone % the source did not
            # have (and so did not escape) breaks the page in that language.
            if lone_percents(msgstr) != lone_percents(msgid):
                problems.append(msgid)

    assert problems == []
