"""The schedule page's timeline: shifts placed on a proportional axis and drawn as SVG on the
server (no script, so the Content-Security-Policy holds), in the viewer's zone and days."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from itsm.models import User
from oncall import feeds, roster

PALETTE = 8  # person colours: .oc-p0 … .oc-p7 in static/css/desk.css
# Geometry of the SVG timeline, in viewBox units (the SVG scales to its card's width).
LABEL_W, PLOT_W, PAD_R = 150, 1050, 8
HEADER_H, ROW_H, ROW_GAP, FINAL_GAP = 40, 30, 6, 14
CHAR_W = 6.6  # a generous average width of a 12-unit character
GEOMETRY = {"width": LABEL_W + PLOT_W + PAD_R, "header_h": HEADER_H, "row_h": ROW_H,
            "plot_w": PLOT_W, "plot_left": LABEL_W, "plot_right": LABEL_W + PLOT_W}


def _fmt(value: datetime) -> str:
    return timezone.localtime(value).strftime("%a %-d %b %H:%M")


def span_text(start: datetime, end: datetime) -> str:
    """'Mon 30 Nov 09:00 – Mon 7 Dec 09:00 CET' in the viewer's zone."""
    return f"{_fmt(start)} – {_fmt(end)} {timezone.localtime(end).strftime('%Z')}"


@dataclass
class Block:
    x: float
    width: float
    label: str
    title: str
    css: str
    href: str = ""


@dataclass
class Row:
    label: str
    note: str
    y: float
    blocks: list
    final: bool = False

    @property
    def middle(self) -> float:
        return self.y + ROW_H / 2


@dataclass
class Day:
    x: float
    width: float
    weekday: str
    label: str
    weekend: bool
    today: bool

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)


def _label_for(user: User | None, width: float) -> str:
    """The longest form of the name that fits the block."""
    if user is None:
        return "Nobody" if width > 8 * CHAR_W else ""
    for text in (str(user), user.first_name or user.username,
                 "".join(part[:1] for part in str(user).split())):
        if len(text) * CHAR_W + 8 <= width:
            return text
    return ""


def colours(value: roster.Schedule) -> dict[int, int]:
    """A colour per person, in the order the layers name them, so it holds from page to page."""
    order = [user for layer in sorted(value.layers, key=lambda layer: -layer.level)
             for user in layer.participants] + [o.user for o in value.overrides]
    found: dict[int, int] = {}
    for user in order:
        found.setdefault(user, len(found) % PALETTE)
    return found


class Timeline:
    """Shifts of one schedule between two instants, placed on a proportional axis."""

    def __init__(self, start: datetime, end: datetime, colours: dict[int, int],
                 people: dict[int, User]):
        self.start, self.end, self.colours, self.people = start, end, colours, people

    def x(self, at: datetime) -> float:
        share = (at - self.start) / (self.end - self.start)
        return round(LABEL_W + PLOT_W * min(max(share, 0.0), 1.0), 2)

    def block(self, shift: roster.Shift, why: str, href: str = "",
              whole: roster.Shift | None = None) -> Block:
        """A shift's block; the title gives the `whole` shift's times when the range cut it."""
        x = self.x(shift.start)
        width = max(self.x(shift.end) - x, 1.0)
        user = self.people.get(shift.user)
        colour = self.colours.get(shift.user, shift.user % PALETTE)
        css = f"oc-block oc-p{colour}" + (" oc-override" if shift.override else "")
        shown = whole or shift
        title = f"{user or 'Someone'}\n{span_text(shown.start, shown.end)}\n{why}"
        return Block(x, width, _label_for(user, width), title, css, href)

    def gap(self, start: datetime, end: datetime) -> Block:
        x = self.x(start)
        width = max(self.x(end) - x, 1.0)
        title = f"Nobody on call\n{span_text(start, end)}"
        return Block(x, width, _label_for(None, width), title, "oc-gap")

    def days(self, today: date) -> list[Day]:
        found, day = [], timezone.localtime(self.start).date()
        while True:
            begin = local_midnight(day)
            if begin >= self.end:
                return found
            finish = local_midnight(day + timedelta(days=1))
            first = not found or day.day == 1
            found.append(Day(self.x(begin), self.x(finish) - self.x(begin), day.strftime("%a"),
                             day.strftime("%-d %b") if first else day.strftime("%-d"),
                             day.weekday() >= 5, day == today))
            day += timedelta(days=1)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()), timezone.get_current_timezone())


def timeline_rows(shifts: dict, timeline: Timeline, value: roster.Schedule, overrides: dict,
          pick) -> tuple[list[Row], int]:
    """The timeline's rows, top layer first, then the final roster with its gaps; and the
    SVG's height."""
    rows, y = [], HEADER_H
    for layer, layer_rows in shifts["layers"]:
        turn = {"hours": f"every {layer.length} h", "days": f"every {layer.length} days"}.get(
            layer.turn, layer.turn.value)
        rows.append(Row(layer.name, f"Level {layer.level} · {turn}", y,
                        [timeline.block(s, s.why) for s in layer_rows]))
        y += ROW_H + ROW_GAP
    y += FINAL_GAP - ROW_GAP
    final = []
    for shift in shifts["final"]:
        whole = feeds.whole(value, shift, timeline.start, timeline.end)
        final.append(timeline.block(shift, feeds.why_text(shift, overrides, timeline.people),
                                    pick(whole), whole))
    final += [timeline.gap(a, b) for a, b in shifts["gaps"]]
    rows.append(Row("Final roster", "who is paged", y, final, final=True))
    return rows, y + ROW_H + 8
