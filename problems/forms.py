"""Forms of the problem, known-error and article pages; each hands clean data to a service."""

import re

from django import forms

from incidents.choices import Level
from incidents.forms import VersionedForm
from incidents.models import Category
from itsm.forms import ServiceErrorsMixin
from itsm.models import Service, Team
from itsm.people import PersonField
from problems.choices import ArticleKind, Audience

NUMBERS = re.compile(r"\b(INC)?0*(\d{1,10})\b", re.IGNORECASE)


def _services():
    return forms.ModelChoiceField(queryset=Service.objects.filter(active=True), required=False,
                                  empty_label="—")


def _category():
    return forms.ModelChoiceField(queryset=Category.objects.filter(active=True, parent=None),
                                  required=False, empty_label="—")


def _many(model_queryset, label):
    return forms.ModelMultipleChoiceField(queryset=model_queryset, required=False, label=label,
                                          widget=forms.SelectMultiple(attrs={"size": 5}))


class ProblemForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(
        attrs={"placeholder": "The suspected cause or the pattern, e.g. 'VPN drops after the "
                              "client update'"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    service = _services()
    category = _category()
    impact = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    owner = PersonField(scope="agents", required=False, label="Problem owner")
    assignment_team = forms.ModelChoiceField(queryset=Team.objects.filter(active=True),
                                             required=False, empty_label="—", label="Team")


class ProblemEditForm(ProblemForm, VersionedForm):
    pass


class AnalysisForm(VersionedForm):
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contributing_factors = forms.CharField(required=False,
                                           widget=forms.Textarea(attrs={"rows": 2}))
    workaround = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="What agents can do meanwhile; a known error "
                                           "created from the problem copies it.")
    permanent_fix = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    change_reference = forms.CharField(max_length=60, required=False)


class TransitionForm(VersionedForm):
    note = forms.CharField(required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.CharField(required=False, max_length=20, label="Duplicate of",
                                   widget=forms.TextInput(attrs={"placeholder": "PRB0000001"}))


class NoteForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(label="", max_length=10000, widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": "Add a note to the investigation…"}))


class LinkForm(ServiceErrorsMixin, forms.Form):
    incidents = forms.CharField(label="Incident numbers", max_length=2000,
                                widget=forms.TextInput(attrs={"placeholder": "INC0000123, 124"}))

    def clean_incidents(self) -> list[str]:
        text = self.cleaned_data["incidents"]
        found = [f"INC{int(m.group(2)):07d}" for m in NUMBERS.finditer(text)]
        if not found:
            raise forms.ValidationError("Type one or more incident numbers.")
        return list(dict.fromkeys(found))


class UnlinkForm(ServiceErrorsMixin, forms.Form):
    incident = forms.RegexField(regex=r"^INC\d{7,}$")


class ResolveIncidentsForm(ServiceErrorsMixin, forms.Form):
    notes = forms.CharField(required=False, max_length=5000, label="Resolution notes",
                            widget=forms.Textarea(attrs={"rows": 2}))


class KnownErrorForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(max_length=200)
    symptoms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="What callers and agents see; suggestions match it.")
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    workaround = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    services = _many(Service.objects.filter(active=True), "Services")
    categories = _many(Category.objects.filter(active=True, parent=None), "Categories")


class KnownErrorEditForm(KnownErrorForm, VersionedForm):
    pass


class ArticleForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ArticleKind.choices, initial=ArticleKind.ARTICLE)
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.AGENTS)
    symptoms = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), help_text="Markdown.")
    steps = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text="Markdown: a numbered list of the steps.")
    services = _many(Service.objects.filter(active=True), "Services")
    categories = _many(Category.objects.filter(active=True, parent=None), "Categories")


class ArticleEditForm(ArticleForm, VersionedForm):
    pass


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=[("published", "Publish"), ("retired", "Retire"),
                                        ("draft", "Back to draft")])


class ApplyForm(ServiceErrorsMixin, forms.Form):
    incident = forms.RegexField(regex=r"^INC\d{7,}$")


class WorkaroundResolveForm(VersionedForm):
    notes = forms.CharField(label="Resolution notes", max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 3}))
