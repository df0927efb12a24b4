"""What may be typed into a form field: one rule for single-line fields, one for multi-line
fields, one for an email address, and one for a record number typed as text.

Single-line fields (a title, a name, an email, an address, a reason, a submission key...)
travel to places a line break breaks: an email's Subject and To headers, a log line, an
attribute. Multi-line fields (a description, a comment, a note, an announcement's body) may
hold line breaks and tabs; `\\r\\n`, a lone `\\r` and the Unicode line and paragraph separators
become `\\n`, so stored text has one kind of line break.

Neither kind may hold NUL (PostgreSQL refuses it in text, which turned a typo'd form into a
500) or any other control character (C0, DEL, C1): no keyboard types them, and they only come
from scripts and broken clients. A tab in a single-line field is pasted from a table, so it
becomes a space. U+FFFD or a lone surrogate means the bytes sent were not UTF-8 (Starlette
decodes a percent-escape that is not UTF-8 as U+FFFD, and raw bytes that are not UTF-8 as
Latin-1, whose bytes 0x80-0x9F are C1 controls): refused, rather than stored garbled.

The checks return a `Message` for the field instead of raising, so a form can collect the
errors of every field at once; `clean` does that for a whole form.
"""

from __future__ import annotations

import re
import unicodedata

from portal.core.errors import N_, Message, ValidationError

MAX_EMAIL = 254
# One "@", a dot in the domain, no spaces: the rest is the mail server's to judge.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_RECORD_NUMBER = 2**31 - 1  # the largest id a PostgreSQL integer column holds
MAX_FORM_KEY = 64  # a submission key a form carries back (the columns hold 64)

# Everything str.splitlines() breaks on, i.e. what an email header refuses.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MULTI_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
# Plain text (ASCII without control characters but tab and newline) needs no character walk:
# most imported records are, and the walk is what a bulk import spent its time on.
_PLAIN = re.compile(r"[\t\n\x20-\x7e]*")

ONE_LINE = N_("Keep this on one line.")
CONTROL = N_("Remove the control characters from this field.")
UNREADABLE = N_("Some characters in this field could not be read. Type it again.")


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def _unreadable(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) == "Cs"


def line_problem(value: str) -> Message | None:
    """Why `value` cannot be a single-line field, or None if it can (a tab is fine: `line`
    makes it a space)."""
    for char in value:
        if char in LINE_BREAKS:
            return Message(ONE_LINE)
        if char != "\t" and _is_control(char):
            return Message(CONTROL)
        if _unreadable(char):
            return Message(UNREADABLE)
    return None


def text_problem(value: str) -> Message | None:
    """Why `value` cannot be a multi-line field, or None if it can."""
    for char in _MULTI_LINE_BREAKS.sub("\n", value):
        if char not in "\n\t" and _is_control(char):
            return Message(CONTROL)
        if _unreadable(char):
            return Message(UNREADABLE)
    return None


def line(value: str) -> str:
    """A single-line field as stored: stripped, tabs as spaces (check `line_problem` first)."""
    return value.replace("\t", " ").strip()


def text(value: str) -> str:
    """A multi-line field as stored: one kind of line break, stripped (check first)."""
    return _MULTI_LINE_BREAKS.sub("\n", value).strip()


def as_one_line(value: str) -> str:
    """`value` with each line break and control character as a space: for text that must be
    one line whatever it holds, such as an email Subject built from an old row."""
    if _PLAIN.fullmatch(value):
        return value.replace("\n", " ").replace("\t", " ").strip()
    return "".join(" " if char in LINE_BREAKS or _is_control(char) else char
                   for char in value.replace("\r\n", "\n")).strip()


def as_text(value: str) -> str:
    """`value` as a multi-line field, each control character (but tab and newline) and
    unreadable character a space: for text nobody can retype, such as imported records."""
    if _PLAIN.fullmatch(value):
        return value.strip()
    return "".join(" " if (char not in "\n\t" and _is_control(char)) or _unreadable(char)
                   else char for char in _MULTI_LINE_BREAKS.sub("\n", value)).strip()


def clean(lines: dict[str, str] | None = None,
          texts: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, Message]]:
    """Check and normalise a form's text fields at once: (values by field, errors by field).

    A field with an error keeps its value as typed, so nothing downstream mistakes it for
    clean text; callers report the errors and write nothing.
    """
    values: dict[str, str] = {}
    errors: dict[str, Message] = {}
    for fields, problem, normalise in ((lines or {}, line_problem, line),
                                       (texts or {}, text_problem, text)):
        for name, value in fields.items():
            if (found := problem(value)) is not None:
                errors[name] = found
                values[name] = value
            else:
                values[name] = normalise(value)
    return values, errors


def require(lines: dict[str, str] | None = None,
            texts: dict[str, str] | None = None) -> dict[str, str]:
    """`clean`, raising ValidationError if any field is refused."""
    values, errors = clean(lines, texts)
    if errors:
        raise ValidationError(errors)
    return values


def email_problem(email: str) -> Message | None:
    """Why a (cleaned) email address is refused, or None: the one email rule."""
    if line_problem(email) is not None:
        return line_problem(email)
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        return Message(N_("Enter an email address like name@example.org."))
    return None


def form_key_problem(key: str) -> Message | None:
    """Why a key our own page put in a hidden field (a submission key) cannot be used: only a
    changed or broken page sends one that is not a short single line."""
    if line_problem(key) is not None or len(key.strip()) > MAX_FORM_KEY:
        return Message(N_("This form was damaged on its way. Reload the page and send it "
                          "again."))
    return None


def record_number(value: str) -> int | None:
    """A record id typed as text ("12", " 12 "), or None if it is not one a table can hold."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_RECORD_NUMBER else None
