"""The demo's attachments: a caller's screenshot and an agent's client log on one incident.

Made through `attachments.services` like any upload; the PNG is drawn here byte by byte
(zlib + struct), so the demo needs no imaging library. Idempotent: nothing is added once any
attachment exists.
"""

import struct
import zlib
from datetime import timedelta

from django.core.files.base import ContentFile

from attachments.models import Attachment
from attachments.services import comment_with_files
from incidents.choices import OPEN_STATES
from incidents.models import Incident
from itsm import clock
from itsm.models import User

# A window with a title bar, an error banner and lines of text, as (x0, y0, x1, y1, colour).
_SCREEN = [
    (0, 0, 320, 200, (233, 236, 239)),      # desktop
    (20, 16, 300, 184, (255, 255, 255)),    # window
    (20, 16, 300, 36, (31, 42, 68)),        # title bar
    (276, 22, 292, 30, (201, 42, 42)),      # close button
    (36, 52, 284, 84, (255, 227, 227)),     # error banner
    (44, 60, 60, 76, (201, 42, 42)),        # its icon
    (68, 62, 240, 68, (134, 46, 46)),       # its text
    (68, 72, 200, 76, (134, 46, 46)),
    *[(36, y, 36 + w, y + 6, (173, 181, 189)) for y, w in
      ((100, 236), (114, 210), (128, 228), (142, 150))],
    (204, 158, 284, 176, (59, 91, 219)),    # "Retry" button
]


def demo_png(width: int = 320, height: int = 200) -> bytes:
    """A small PNG 'screenshot' of an application showing an error."""
    pixels = [bytearray(b"\x00" * (width * 3)) for _ in range(height)]
    for x0, y0, x1, y1, colour in _SCREEN:
        for y in range(y0, min(y1, height)):
            pixels[y][x0 * 3: min(x1, width) * 3] = bytes(colour) * (min(x1, width) - x0)
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)  # filter type 0 per scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


DEMO_LOG = """\
2026-11-30 08:41:02 INFO  vpnclient 5.2.1 starting
2026-11-30 08:41:03 INFO  profile "Corporate" loaded, gateway vpn.example.com:443
2026-11-30 08:41:04 INFO  TLS handshake complete (TLS 1.3)
2026-11-30 08:41:05 INFO  tunnel up, address 10.40.12.77/22
2026-11-30 08:51:05 WARN  keepalive missed (1/3)
2026-11-30 08:51:15 WARN  keepalive missed (2/3)
2026-11-30 08:51:25 ERROR keepalive missed (3/3): gateway unreachable
2026-11-30 08:51:25 INFO  tunnel down, reconnecting in 5 s
2026-11-30 08:51:31 INFO  tunnel up, address 10.40.12.77/22
"""


def seed_attachments() -> bool:
    """One open incident of the demo requester gets their screenshot (a public comment) and
    an agent's internal work note with a log; False when there was nothing to do."""
    if Attachment.objects.exists():
        return False
    caller = User.objects.filter(username="requester").first()
    agent = User.objects.filter(username="agent").first()
    theirs = Incident.objects.filter(caller=caller).order_by("-opened_at")
    incident = (theirs.filter(state__in=OPEN_STATES).first() or theirs.first()) if caller else None
    if incident is None or agent is None:
        return False
    # Just after the incident's latest line, so its history stays in order and in the past.
    last = incident.timeline.order_by("-at").values_list("at", flat=True).first()
    at = min((last or incident.opened_at) + timedelta(minutes=5),
             clock.now() - timedelta(minutes=1))
    with clock.frozen_at(at):
        comment_with_files(incident=incident, by=caller, internal=False,
                           body="This is what I see when it drops.",
                           files=[ContentFile(demo_png(), name="screenshot.png")])
    with clock.frozen_at(at + timedelta(seconds=30)):
        comment_with_files(incident=incident, by=agent, internal=True,
                           body="Client log from the caller's laptop: keepalives time out "
                                "every ten minutes.",
                           files=[ContentFile(DEMO_LOG.encode(), name="vpnclient.log")])
    return True
