"""Forms of the roster pages; each hands clean data to one function of `oncall.services`.

Field names are the services' keyword names, so an `InvalidInput.field_errors` key lands on
the field it is about.
"""

from django import forms

from itsm.forms import ServiceErrorsMixin
from oncall.choices import ContactKind, Urgency

# What a datetime-local input sends (seconds only when the browser shows them).
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
LOCAL_WIDGET_FORMAT = "%Y-%m-%dT%H:%M"


def local_datetime_field(label: str) -> forms.DateTimeField:
    """A datetime-local input, read in the viewer's time zone (the one active for the
    request): Django makes the naive value aware in the current zone, and refuses a wall
    time that the zone skips or repeats with a message instead of guessing."""
    return forms.DateTimeField(
        label=label, input_formats=LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format=LOCAL_WIDGET_FORMAT))



class OverrideForm(ServiceErrorsMixin, forms.Form):
    """Put someone on call over every layer; `people` are whom the roster may name."""

    prefix = "override"

    user = forms.ModelChoiceField(queryset=None, label="Who covers", empty_label="Choose…",
                                  required=False)
    starts_at = local_datetime_field("From")
    ends_at = local_datetime_field("To")
    note = forms.CharField(max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. covers the "
                                                                         "release night"}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people


class SwapForm(ServiceErrorsMixin, forms.Form):
    """Offer part of one's own shift to the team."""

    prefix = "swap"

    starts_at = local_datetime_field("From")
    ends_at = local_datetime_field("To")
    note = forms.CharField(max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. dentist"}))


class ContactMethodForm(ServiceErrorsMixin, forms.Form):
    """A way to reach me; the service checks the address for its kind."""

    kind = forms.ChoiceField(choices=ContactKind.choices, initial=ContactKind.EMAIL)
    address = forms.CharField(max_length=500, required=False,
                              help_text="E-mail address or Apprise URL; empty for in-app.")
    label = forms.CharField(max_length=60, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "e.g. Work phone"}))


class RuleForm(ServiceErrorsMixin, forms.Form):
    """A rung of my ladder: which method, for which urgency, how long after the page."""

    method = forms.TypedChoiceField(coerce=int, label="Through")
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.HIGH, label="For")
    delay_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, initial=0,
                                       label="After (minutes)")

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.methods = {method.pk: method for method in methods}
        self.fields["method"].choices = [(pk, f"{m.get_kind_display().split(' (')[0]}: "
                                              f"{m.label or m.address or 'the desk'}")
                                         for pk, m in self.methods.items()]

    def clean_method(self):
        return self.methods[self.cleaned_data["method"]]
