"""Find the POST forms on a page (action, field names and kinds), with the standard library."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input type
    choices: dict[str, list[str]] = field(default_factory=dict)  # select/radio values
    enctype: str = ""


class _Parser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            action = attrs.get("action") or self.page_url
            self.current = Form(action=action.split("#")[0], enctype=attrs.get("enctype", ""))
            self.forms.append(self.current)
        if self.current is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            self.current.fields.setdefault(name, kind)
            if kind in ("radio", "checkbox", "hidden") and attrs.get("value") is not None:
                self.current.choices.setdefault(name, []).append(attrs["value"])
        elif tag == "textarea" and name:
            self.current.fields.setdefault(name, "textarea")
        elif tag == "select" and name:
            self.current.fields.setdefault(name, "select")
            self.select = name
        elif tag == "option" and self.select and attrs.get("value") is not None:
            self.current.choices.setdefault(self.select, []).append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def post_forms(html: str, page_url: str) -> list[Form]:
    parser = _Parser(page_url)
    parser.feed(html)
    return parser.forms
