"""Forms of the roster pages; each hands clean data to one function of `oncall.services`.

Field names are the services' keyword names, so an `InvalidInput.field_errors` key lands on
the field it is about.
"""

from django import forms
from django.forms.models import BaseInlineFormSet, inlineformset_factory

from incidents.choices import Priority
from itsm.forms import ServiceErrorsMixin
from itsm.models import Team, User
from oncall.choices import ContactKind, TargetKind, Urgency
from oncall.models import EscalationPolicy, EscalationStep, Schedule

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


# --- escalation policies (the admin's inline and the managers' page share these) ------------

class StepForm(forms.ModelForm):
    class Meta:
        model = EscalationStep
        fields = ("position", "target", "wait_minutes", "schedule", "team", "users")

    def clean(self):
        """A step names what its target needs: a step that can find nobody is refused here
        rather than discovered during an outage."""
        data = super().clean()
        target = data.get("target")
        if target == TargetKind.SCHEDULE and not data.get("schedule"):
            self.add_error("schedule", "Choose the schedule whose on-call person is notified.")
        if target in (TargetKind.TEAM, TargetKind.ROUND_ROBIN) and not data.get("team"):
            self.add_error("team", "Choose the team.")
        if target == TargetKind.USERS and not data.get("users"):
            self.add_error("users", "Choose at least one person.")
        return data


class StepFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [form for form in self.forms if getattr(form, "cleaned_data", None)
                and not (self.can_delete and self._should_delete_form(form))]
        if not kept:
            raise forms.ValidationError("A policy needs at least one step: with none it pages "
                                        "nobody.")


class PolicyForm(forms.ModelForm):
    priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents of these priorities page; others only notify the team.")

    class Meta:
        model = EscalationPolicy
        fields = ("name", "team", "services", "priorities", "repeat", "active")
        widgets = {"services": forms.SelectMultiple(attrs={"size": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(active=True).order_by("name")


def steps_formset(*args, **kwargs):
    """The policy page's steps: the people a step may name are the desk's team members."""
    formset = inlineformset_factory(EscalationPolicy, EscalationStep, form=StepForm,
                                    formset=StepFormSet, extra=1, can_delete=True)(
        *args, **kwargs)
    people = User.objects.filter(is_active=True, teams__isnull=False).distinct() \
        .order_by("first_name", "last_name", "username")
    for form in formset.forms + [formset.empty_form]:
        form.fields["users"].queryset = people
        form.fields["users"].widget.attrs["size"] = 4
        form.fields["schedule"].queryset = Schedule.objects.order_by("name")
        form.fields["team"].queryset = Team.objects.filter(active=True).order_by("name")
    return formset
