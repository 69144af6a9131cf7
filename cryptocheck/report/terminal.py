"""What a terminal can be shown safely and in line: escapes, widths, shortening, colour.

The text reporter lays out columns with these; the HTML page shows input-derived strings
through :func:`printable` too, so a control character looks the same in both.

Everything printed that came from an input (subjects, comments, paths, messages) goes through
:func:`printable` first, so a certificate whose subject holds an escape sequence or a newline
cannot rewrite the terminal or forge a line of a report. Widths are counted in terminal
columns (:func:`display_width`), not characters, so wide East Asian text stays aligned.
"""

from __future__ import annotations

import unicodedata

from cryptocheck.model import Status

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
STATUS_COLOUR = {
    Status.DISALLOWED: "\x1b[1;31m",  # bold red
    Status.UNKNOWN: "\x1b[35m",  # magenta
    Status.DEPRECATED: "\x1b[33m",  # yellow
    Status.LEGACY: "\x1b[36m",  # cyan
    Status.APPROVED: "\x1b[32m",  # green
}

ELLIPSIS = "…"


def paint(text: str, code: str) -> str:
    """``text`` in the ANSI style ``code`` (one of the constants above), reset after it.

    Applied after padding, so escape codes never count towards a column's width.
    """
    return f"{code}{text}{RESET}"


def printable(text: str) -> str:
    """``text`` with control and format characters shown as escapes (``\\x1b``, ``\\u202e``).

    Input-derived strings are untrusted: an ANSI sequence in a certificate subject must not
    reach the terminal, a newline must not start a forged line, and a bidi override must not
    reorder what is shown.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"):
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:  # other separators (NBSP and the like): show as a plain space
            out.append(" ")
    return "".join(out)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide East Asian characters count 2, combining 0."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int, *, keep_end: bool = False) -> str:
    """``text`` shortened to at most ``width`` columns with ``…``.

    ``keep_end`` keeps the end rather than the start (for paths: the file name matters most).
    """
    if display_width(text) <= width:
        return text
    chars = list(reversed(text)) if keep_end else list(text)
    kept: list[str] = []
    used = display_width(ELLIPSIS)
    for char in chars:
        w = display_width(char)
        if used + w > width:
            break
        kept.append(char)
        used += w
    if keep_end:
        return ELLIPSIS + "".join(reversed(kept))
    return "".join(kept) + ELLIPSIS


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns."""
    return text + " " * max(0, width - display_width(text))
