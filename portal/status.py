"""What a requester reads about the state of their request: the one place for these words.

Agents' states and hold reasons become plain words; nothing internal (tiers, teams, SLAs)
shows through. Every portal page and the e-mails take their wording from here.
"""

from dataclasses import dataclass

from incidents.choices import HoldReason, State


@dataclass(frozen=True)
class Status:
    word: str  # "We're working on it"
    tone: str  # the pill's colour: received, working, waiting, solved, closed, canceled
    line: str = ""  # a gentle sentence under the word, when there is one to say

    @property
    def waiting_on_you(self) -> bool:
        return self.tone == "waiting"


WAITING_FOR_YOU = "Waiting for your reply"

# Other hold reasons stay "We're working on it", with a line that says why, plainly.
HOLD_LINES = {
    HoldReason.AWAITING_VENDOR: "We're waiting on a supplier.",
    HoldReason.AWAITING_CHANGE: "We're waiting for a planned change to go in.",
    HoldReason.AWAITING_PROBLEM: "It's part of a wider issue we're fixing.",
}


def status_for(state: str, hold_reason: str = "") -> Status:
    """The requester's status for an incident state (and hold reason, when on hold)."""
    if state == State.NEW:
        return Status("Received", "received", "We've got it and will pick it up soon.")
    if state == State.IN_PROGRESS:
        return Status("We're working on it", "working")
    if state == State.ON_HOLD:
        if hold_reason == HoldReason.AWAITING_CALLER:
            return Status(WAITING_FOR_YOU, "waiting", "We need a little more from you to "
                                                      "carry on.")
        return Status("We're working on it", "working", HOLD_LINES.get(hold_reason, ""))
    if state == State.RESOLVED:
        return Status("Solved — please confirm", "solved", "We think it's fixed. Let us know "
                                                           "if it is.")
    if state == State.CLOSED:
        return Status("Closed", "closed")
    if state == State.CANCELED:
        return Status("Canceled", "canceled")
    raise ValueError(f"Unknown incident state {state!r}")


def request_status(incident) -> Status:
    return status_for(incident.state, incident.hold_reason)


def hold_note(body: str) -> str:
    """The note an agent wrote when putting a request on hold, without the reason's label.

    A hold's timeline entry says the reason ("Awaiting caller"), optionally followed by the
    agent's note ("Awaiting caller: Which printer is it?"), or holds the note alone. The bare
    label is no question to show anyone, so it gives "".
    """
    text = (body or "").strip()
    for label in HoldReason.labels:
        if text == label:
            return ""
        if text.startswith(label):
            rest = text[len(label):]
            if rest[:1] in (":", "—", "–", "-", "\n", "."):
                return rest[1:].strip()
    return text


def hold_reason_in(body: str) -> str:
    """The hold reason named at the start of a hold entry's body ("" when it names none)."""
    text = (body or "").strip()
    for reason in HoldReason:
        if text.startswith(reason.label):
            return reason.value
    return ""
