"""The one input filter: text people send never carries control or direction characters.

A right-to-left override (U+202E) makes "gpj.exe" read as "exe.jpg"; control characters
break printing, exports and SMS. Every form field and query value is cleaned here, on the
way in, by the request class (see create_app), so no feature can forget to. Newlines and
tabs stay (notices and descriptions have paragraphs); Windows line ends become \\n.
No Flask here: the request class in core.security applies it.
"""

import re

# C0 controls except tab and newline, DEL, C1 controls; bidi embeddings, overrides and
# isolates; directional marks; the byte-order mark; line/paragraph separators.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)


def clean_text(text: str) -> str:
    """Drop control and bidi characters; keep tab and newline (\\r\\n and \\r become \\n)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub("", text)


def has_unwanted(text: str) -> bool:
    return bool(_UNWANTED.search(text or ""))
