"""Pictures where people would rather look than read, drawn on the server as SVG
(pygal, its scripts switched off): the stage funnel and compounds accepted per month.
Readable on a phone and on paper; no JavaScript, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from datetime import date

import pygal
from pygal.style import Style

from app.community.models import Stage

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#1f6f43", "#2f7fb5", "#c77c11", "#7a4fa0", "#555"),
    font_family="sans-serif",
    label_font_size=16,
    major_label_font_size=16,
    value_font_size=16,
    value_label_font_size=16,
    title_font_size=18,
)
COMMON = {
    "style": STYLE,
    "js": [],  # no script in the picture
    "disable_xml_declaration": False,
    "show_legend": False,
    "print_values": True,
    "width": 420,
    "height": 300,
    "margin": 12,
    "explicit_size": False,
    "truncate_label": -1,  # a stage's whole name, never cut short
}


_SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.S)


def _without_scripts(svg: bytes) -> bytes:
    """pygal writes its configuration into a script even with js=[]: take it out (the
    picture is shown as an image; nothing in it runs)."""
    return _SCRIPT.sub(b"", svg)


def _whole_numbers(values) -> list[int]:
    """Axis marks at whole numbers of compounds (no 0.1 of a compound)."""
    top = max([*values, 1])
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def _room_for(names: list[str]) -> dict:
    """pygal sizes labels for Latin letters; a Chinese character is about twice as wide,
    so give the labels the room they take."""
    wide = max((sum(1 for ch in name if ord(ch) > 0x2E80) for name in names), default=0)
    return {"margin_left": COMMON["margin"] + int(wide * STYLE.label_font_size * 0.5)}


def stage_funnel(counts: dict[Stage, int], labels: dict[Stage, str], title: str) -> bytes:
    """How many compounds stand at each stage, from surveying to managed."""
    values = [counts.get(stage, 0) for stage in reversed(list(Stage))]
    names = [str(labels[stage]) for stage in reversed(list(Stage))]
    chart = pygal.HorizontalBar(
        title=title, y_labels=_whole_numbers(values), **{**COMMON, **_room_for(names)}
    )
    chart.x_labels = names
    chart.add("", values)
    return _without_scripts(chart.render())


def accepted_per_month(months: list[tuple[date, int]], title: str, empty: str) -> bytes:
    """Compounds passing joint acceptance, month by month."""
    values = [count for _, count in months]
    chart = pygal.Bar(title=title, no_data_text=empty, y_labels=_whole_numbers(values), **COMMON)
    chart.x_labels = [f"{month.year}-{month.month:02d}" for month, _ in months]
    chart.add("", values)
    return _without_scripts(chart.render())
