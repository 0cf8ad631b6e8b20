"""Forms of the browser UI; each hands clean data to one service function."""

from django import forms
from django.utils.choices import CallableChoiceIterator

from incidents.choices import Channel, HoldReason, Level, Priority, ResolutionCode
from incidents.models import Category
from itsm.forms import ServiceErrorsMixin
from itsm.models import Service, Team
from itsm.numbers import MAX_COUNTER
from itsm.people import PersonField


class GroupedCategoryField(forms.ModelChoiceField):
    """Subcategories grouped under their category in the select."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Category.objects.filter(active=True, parent__isnull=False)
                         .select_related("parent").order_by("parent__name", "name"), **kwargs)

    def label_from_instance(self, obj):
        return obj.name

    def _grouped(self):
        groups: dict[str, list] = {}
        for category in self.queryset:
            groups.setdefault(category.parent.name, []).append((category.pk, category.name))
        return [("", "—"), *groups.items()]

    @property
    def choices(self):  # lazy: evaluated when the form renders, not at import
        return CallableChoiceIterator(self._grouped)

    @choices.setter
    def choices(self, value):  # ModelChoiceField sets it; the grouped list is derived instead
        pass



class VersionedForm(ServiceErrorsMixin, forms.Form):
    """Carries the version the user saw, so a stale submission is refused (409)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1,
                                 max_value=MAX_COUNTER)


class IncidentForm(ServiceErrorsMixin, forms.Form):
    """Intake and edit: only the essentials; priority follows from impact × urgency."""

    title = forms.CharField(max_length=200, widget=forms.TextInput(
        attrs={"placeholder": "What is broken, for whom? e.g. 'VPN drops every 10 minutes'",
               "autofocus": True}))
    description = forms.CharField(required=False, widget=forms.Textarea(
        attrs={"rows": 4, "placeholder": "Symptoms, error messages, since when, who is affected"}))
    caller = PersonField(required=False, help_text="The affected person; leave empty for yourself.")
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True), required=False,
                                     empty_label="—")
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True, parent=None), required=False,
        empty_label="—")
    subcategory = GroupedCategoryField(required=False)
    impact = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM,
                               help_text="How many people or how much of the business")
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM,
                                help_text="How soon it hurts")

    def __init__(self, *args, agent: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not agent:  # requesters log for themselves, through the web
            del self.fields["caller"]
            del self.fields["channel"]

    def clean(self):
        data = super().clean()
        sub, category = data.get("subcategory"), data.get("category")
        if sub is not None and category is None:
            data["category"] = sub.parent
        elif sub is not None and sub.parent_id != category.pk:
            self.add_error("subcategory", f"{sub.name} is not part of {category}.")
        return data


class EditForm(IncidentForm, VersionedForm):
    caller = PersonField(help_text="The affected person.")


class FieldEditForm(EditForm):
    """One field (or category with its subcategory) of the detail page, edited in place."""

    GROUPS = {"title": ["title"], "description": ["description"], "caller": ["caller"],
              "channel": ["channel"], "service": ["service"],
              "category": ["category", "subcategory"], "impact": ["impact"],
              "urgency": ["urgency"]}

    def __init__(self, *args, only: str, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {*self.GROUPS[only], "version"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.fields.get("title", forms.Field()).widget.attrs.pop("placeholder", None)


class HoldForm(VersionedForm):
    reason = forms.ChoiceField(choices=HoldReason.choices)
    note = forms.CharField(required=False, max_length=2000, label="Note (optional)",
                           widget=forms.Textarea(attrs={
                               "rows": 2, "placeholder": "Awaiting the caller? Ask your question "
                                                        "here: they see it and get an e-mail."}))
    follow_up_at = forms.DateTimeField(
        required=False, label="Follow up on (optional)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="A reminder appears on the timeline then, if it is still on hold.")


class ResolveForm(VersionedForm):
    code = forms.ChoiceField(label="Resolution code",
                             choices=[("", "Choose…"), *ResolutionCode.choices])
    notes = forms.CharField(label="Resolution notes", widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(VersionedForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(VersionedForm):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(active=True), label="Hand it to")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="What they need to know; it goes on the timeline.")


class OptionalReasonForm(VersionedForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(VersionedForm):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(active=True))
    assignee = PersonField(scope="agents", team_field="team", required=False,
                           help_text="Leave empty for anyone in the team.")


class PriorityForm(VersionedForm):
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int)
    reason = forms.CharField(max_length=300)


class CommentForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(label="", widget=forms.Textarea(
        attrs={"rows": 3, "placeholder": "Write a note or a reply…"}))
    internal = forms.BooleanField(required=False, label="Internal note (agents only)")


class BulkForm(ServiceErrorsMixin, forms.Form):
    """The queue's bulk bar: the action and what it needs (the ticked rows come as `incident`)."""

    action = forms.ChoiceField(choices=[("assign", "Assign…"), ("assign_to_me", "Assign to me"),
                                        ("hold", "Put on hold…"), ("resolve", "Resolve…")])
    team = forms.ModelChoiceField(queryset=Team.objects.filter(active=True), required=False,
                                  empty_label="Team…")
    assignee = PersonField(scope="agents", team_field="team", required=False,
                           help_text="Anyone in the team when empty.")
    reason = forms.ChoiceField(choices=[("", "Why…"), *HoldReason.choices], required=False)
    note = forms.CharField(required=False, max_length=2000)
    code = forms.ChoiceField(choices=[("", "Resolution code…"), *ResolutionCode.choices],
                             required=False)
    notes = forms.CharField(required=False, max_length=4000)

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("team") and not data.get("assignee"):
            self.add_error("team", "Choose the team (and optionally the person) to assign to.")
        if action == "hold" and not data.get("reason"):
            self.add_error("reason", "Choose why they are on hold.")
        if action == "resolve" and not (data.get("code") and (data.get("notes") or "").strip()):
            self.add_error("notes", "Choose a resolution code and say what was done.")
        return data
