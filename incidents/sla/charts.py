"""Charts drawn on the server as SVG: no JavaScript library, nothing loaded from elsewhere.

Under the desk's Content-Security-Policy a `style=` attribute is refused, so the SVG uses
presentation attributes (coordinates, text-anchor) and the classes static/css/desk.css styles
(`.desk-chart …`); the figures behind each bar are in its <title>, shown on hover.
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 22, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
GRID = (0, 25, 50, 75, 100)
MAX_X_LABELS = 12  # beyond this, every n-th group is labelled
VALUE_LABELS_UP_TO = 9  # groups; beyond, only the highlighted group and the one before it
MARKS_UP_TO = 20  # groups; up to this many, a bar with no value shows a dash


@dataclass(frozen=True)
class Bar:
    series: str  # a CSS class suffix: `bar-<series>`
    value: float | None  # a percentage; None: nothing to show
    title: str  # the tooltip


@dataclass(frozen=True)
class Group:
    label: str  # under the axis, e.g. "2 Mar"
    title: str  # the tooltip of the group's column
    bars: tuple[Bar, ...]
    highlight: bool = False  # e.g. the current week


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _y(percent: float) -> float:
    return TOP + PLOT_H * (1 - percent / 100)


def _grid() -> SafeString:
    return format_html_join("", (
        '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart-axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">'
        "{} %</text>"), ((LEFT, WIDTH - RIGHT, _n(_y(p)), _n(_y(p)), LEFT - 6, _n(_y(p)), p)
                         for p in GRID))


def _target(target: float | None) -> SafeString:
    """Drawn over the bars, so a bar reaching past it still shows where it lies; labelled on
    the left, away from the current week."""
    if target is None:
        return mark_safe("")
    y = _n(_y(target))
    return format_html(
        '<line class="chart-target" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart-target-label" x="{}" y="{}">target {} %</text>',
        LEFT, WIDTH - RIGHT, y, y, LEFT + 4, _n(_y(target) - 4), _n(target))


def _label_places(groups: list[Group]) -> dict[int, tuple[float, str]]:
    """Where each x-axis label goes (x, text-anchor): the highlighted group's always, then
    every n-th counted back from the last group (the current week on most periods), skipping
    any that would touch a label already placed. Text is under 7 units a character; a label
    wider than its column at either end is aligned to the plot's edge."""
    count = len(groups)
    width = PLOT_W / max(count, 1)
    step = math.ceil(count / MAX_X_LABELS)
    wanted = [i for i, g in enumerate(groups) if g.highlight]
    wanted += [i for i in range(count - 1, -1, -step) if i not in wanted]
    places, taken = {}, []
    for i in wanted:
        centre, half = LEFT + (i + 0.5) * width, len(groups[i].label) * 3.3
        x, anchor, left, right = centre, "middle", centre - half, centre + half
        if right > WIDTH - RIGHT:
            x, anchor, left, right = WIDTH - RIGHT, "end", WIDTH - RIGHT - 2 * half, WIDTH - RIGHT
        elif left < LEFT:
            x, anchor, left, right = LEFT, "start", LEFT, LEFT + 2 * half
        if any(left < end + 10 and start < right + 10 for start, end in taken):
            continue
        taken.append((left, right))
        places[i] = (x, anchor)
    return places


def _group(index: int, group: Group, count: int, *, label: tuple[float, str] | None,
           values: bool, marks: bool) -> SafeString:
    width = PLOT_W / count
    x0 = LEFT + index * width
    centre = x0 + width / 2
    bar_w = min(22.0, width * 0.8 / max(len(group.bars), 1))
    parts = [format_html(
        '<g class="chart-group{}"><rect class="chart-column" x="{}" y="{}" width="{}" '
        'height="{}"><title>{}</title></rect>',
        " is-highlight" if group.highlight else "", _n(x0 + 1), TOP - 4, _n(width - 2),
        PLOT_H + 4, group.title)]
    for i, bar in enumerate(group.bars):
        x = centre - bar_w * len(group.bars) / 2 + i * bar_w
        if bar.value is None:
            if not marks:
                continue
            parts.append(format_html(
                '<text class="chart-none" x="{}" y="{}" text-anchor="middle">–<title>{}</title>'
                "</text>", _n(x + bar_w / 2), _n(_y(0) - 3), bar.title))
            continue
        top = _y(bar.value)
        parts.append(format_html(
            '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}" rx="1.5">'
            "<title>{}</title></rect>", bar.series, _n(x + 1), _n(top), _n(bar_w - 2),
            _n(max(_y(0) - top, 0.5)), bar.title))
        if values:
            parts.append(format_html(
                '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(x + bar_w / 2), _n(top - 3), f"{math.floor(bar.value):.0f}"))
    if label:
        parts.append(format_html(
            '<text class="chart-label" x="{}" y="{}" text-anchor="{}">{}</text>',
            _n(label[0]), HEIGHT - BOTTOM + 16, label[1], group.label))
    parts.append(mark_safe("</g>"))
    return mark_safe("".join(parts))


def percent_bars(groups: list[Group], *, target: float | None, description: str) -> SafeString:
    """Grouped bars of percentages (0–100 %) with a target line; the highlighted group (the
    current week) gets a band, full colour and its values printed, so it reads at a glance."""
    count = max(len(groups), 1)
    emphasised = {j for i, g in enumerate(groups) if g.highlight for j in (i - 1, i)}
    places = _label_places(groups)
    body = format_html_join("", "{}", (
        (_group(i, g, count, label=places.get(i), marks=count <= MARKS_UP_TO,
                values=count <= VALUE_LABELS_UP_TO or i in emphasised),)
        for i, g in enumerate(groups)))
    size = "desk-chart-wide" if count > 20 else "desk-chart-medium" if count > 10 else ""
    return format_html(
        '<svg class="desk-chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}{}{}'
        '<line class="chart-baseline" x1="{}" x2="{}" y1="{}" y2="{}"/></svg>',
        size, WIDTH, HEIGHT, description, _grid(), body, _target(target), LEFT, WIDTH - RIGHT,
        _n(_y(0)), _n(_y(0)))
