"""The portal's forms, in the requester's words; each hands clean data to one service."""

from django import forms

from incidents.choices import Level
from itsm.forms import ServiceErrorsMixin
from itsm.models import Service
from itsm.numbers import MAX_COUNTER

# "How does it affect your work?" → urgency; "Who is affected?" → impact. The desk's priority
# matrix turns the pair into a priority, which the requester never sees.
EFFECTS = [
    ("blocked", "I can't work at all", "Nothing works and there's no way around it."),
    ("slower", "I can work, but slower", "There's a way around it, but it costs time."),
    ("can_wait", "It can wait", "It's a nuisance, not a blocker."),
]
REACHES = [
    ("me", "Just me", "Only you have the problem."),
    ("team", "My team", "A few colleagues have it too."),
    ("many", "Many people or the whole site", "It looks bigger than your team."),
]
URGENCY = {"blocked": Level.HIGH, "slower": Level.MEDIUM, "can_wait": Level.LOW}
IMPACT = {"me": Level.LOW, "team": Level.MEDIUM, "many": Level.HIGH}


def impact_urgency(*, reach: str, effect: str) -> tuple[str, str]:
    """The (impact, urgency) pair for the requester's two answers (KeyError if unknown)."""
    return IMPACT[reach], URGENCY[effect]


class RequestForm(ServiceErrorsMixin, forms.Form):
    """Log a request: what's wrong, in the requester's words, and how much it hurts."""

    title = forms.CharField(label="What's wrong?", max_length=200, widget=forms.TextInput(
        attrs={"placeholder": "e.g. “I can't print to the 3rd floor printer”",
               "autofocus": True}),
        error_messages={"required": "Tell us in a few words what's wrong."})
    description = forms.CharField(label="Tell us more", required=False, widget=forms.Textarea(
        attrs={"rows": 5, "placeholder": "What happened, any error message, since when…"}))
    effect = forms.ChoiceField(label="How does it affect your work?", initial="slower",
                               choices=[(value, label) for value, label, _ in EFFECTS],
                               widget=forms.RadioSelect(attrs={"class": "portal-choice-input"}),
                               error_messages={"required": "Choose how it affects your work."})
    reach = forms.ChoiceField(label="Who is affected?", initial="me",
                              choices=[(value, label) for value, label, _ in REACHES],
                              widget=forms.RadioSelect(attrs={"class": "portal-choice-input"}),
                              error_messages={"required": "Choose who is affected."})
    service = forms.ModelChoiceField(label="Which service?", required=False,
                                     queryset=Service.objects.filter(active=True),
                                     empty_label="I'm not sure",
                                     error_messages={"invalid_choice": "Choose a service from "
                                                                       "the list."})

    # A line under each radio's label (the template looks them up by value).
    HINTS = {value: hint for value, _, hint in (*EFFECTS, *REACHES)}

    def incident_fields(self) -> dict:
        """What `incidents.services.incident_create` takes, from the cleaned answers."""
        data = self.cleaned_data
        impact, urgency = impact_urgency(reach=data["reach"], effect=data["effect"])
        return {"title": data["title"], "description": data["description"],
                "service": data["service"], "impact": impact, "urgency": urgency}


class VersionedForm(ServiceErrorsMixin, forms.Form):
    """Carries the version the requester saw, so a stale click is refused, not misapplied."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1,
                                 max_value=MAX_COUNTER)


class ReplyForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(label="Reply", max_length=20_000, widget=forms.Textarea(
        attrs={"rows": 4, "id": "reply-body", "placeholder": "Write your reply…"}),
        error_messages={"required": "Write your reply first."})


class ReopenForm(VersionedForm):
    note = forms.CharField(label="What's still wrong?", max_length=5_000,
                           widget=forms.Textarea(attrs={"rows": 3, "id": "reopen-note"}),
                           error_messages={"required": "Tell us briefly what's still wrong."})
