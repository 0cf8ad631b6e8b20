"""The portal's words: status per state, the hold note, and the intake answers' mapping."""


import pytest

from incidents.choices import HoldReason, Level, State
from portal.forms import EFFECTS, REACHES, impact_urgency
from portal.status import hold_note, hold_reason_in, status_for


@pytest.mark.parametrize(("state", "reason", "word", "line"), [
    (State.NEW, "", "Received", "We've got it and will pick it up soon."),
    (State.IN_PROGRESS, "", "We're working on it", ""),
    (State.ON_HOLD, HoldReason.AWAITING_CALLER, "Waiting for your reply",
     "We need a little more from you to carry on."),
    (State.ON_HOLD, HoldReason.AWAITING_VENDOR, "We're working on it",
     "We're waiting on a supplier."),
    (State.ON_HOLD, HoldReason.AWAITING_CHANGE, "We're working on it",
     "We're waiting for a planned change to go in."),
    (State.ON_HOLD, HoldReason.AWAITING_PROBLEM, "We're working on it",
     "It's part of a wider issue we're fixing."),
    (State.RESOLVED, "", "Solved — please confirm", "We think it's fixed. Let us know if it is."),
    (State.CLOSED, "", "Closed", ""),
    (State.CANCELED, "", "Canceled", ""),
])
def test_each_state_has_its_plain_status_word(state, reason, word, line):
    status = status_for(state, reason)
    assert (status.word, status.line) == (word, line)
    assert status.waiting_on_you is (reason == HoldReason.AWAITING_CALLER)


def test_every_state_is_worded():
    for state in State:
        for reason in ["", *HoldReason.values]:
            assert status_for(state, reason).word


@pytest.mark.parametrize(("body", "note"), [
    ("Awaiting caller", ""),
    ("Awaiting vendor", ""),
    ("Awaiting caller: Which printer is it?", "Which printer is it?"),
    ("Which printer is it?", "Which printer is it?"),
    ("", ""),
])
def test_the_hold_note_is_the_agents_words_never_the_reason_label(body, note):
    assert hold_note(body) == note


def test_the_hold_reason_is_read_from_the_label_when_the_entry_has_it():
    assert hold_reason_in("Awaiting vendor") == HoldReason.AWAITING_VENDOR
    assert hold_reason_in("Which printer is it?") == ""


@pytest.mark.parametrize("effect", [value for value, _, _ in EFFECTS])
@pytest.mark.parametrize("reach", [value for value, _, _ in REACHES])
def test_the_two_answers_map_to_impact_and_urgency(effect, reach):
    urgency = {"blocked": Level.HIGH, "slower": Level.MEDIUM, "can_wait": Level.LOW}[effect]
    impact = {"me": Level.LOW, "team": Level.MEDIUM, "many": Level.HIGH}[reach]
    assert impact_urgency(reach=reach, effect=effect) == (impact, urgency)

