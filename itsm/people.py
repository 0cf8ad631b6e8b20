"""The people picker: a search-as-you-type field for callers and assignees.

A detail page used to carry every active user as an <option> (2,000 of them in the scale data,
88 KB of each page). The picker renders only the chosen person; static/js/desk.js asks
`people` for ten matches as the agent types. Without JavaScript, typing an exact username or
e-mail address still works.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from itsm.models import User
from itsm.numbers import parse_id
from itsm.selectors import people_search


class PersonPicker(forms.Widget):
    """A hidden id plus a text box that searches; `scope` picks whom it offers."""

    template_name = "itsm/widgets/person_picker.html"

    def __init__(self, *, scope: str, team_field: str = "", attrs=None):
        super().__init__(attrs)
        self.scope, self.team_field = scope, team_field

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        person = value if isinstance(value, User) else None
        if person is None and isinstance(value, dict):  # re-shown after an error: as typed
            text = value.get("text", "")
        else:
            if person is None and parse_id(value or ""):
                person = User.objects.filter(pk=value).first()
            text = str(person) if person else ""
        context["widget"].update(
            person=person, text=text, search_url=f"{reverse('people')}?scope={self.scope}",
            team_field=self.team_field,
        )
        return context

    def value_from_datadict(self, data, files, name):
        chosen, text = data.get(name, ""), data.get(f"{name}_search", "").strip()
        if chosen or not text:
            return chosen
        return {"text": text}  # typed but not picked from the list: resolved by the field

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_search" not in data


class PersonField(forms.ModelChoiceField):
    """A person chosen with the picker, or typed as an exact username or e-mail address."""

    def __init__(self, *, scope: str = "people", team_field: str = "", **kwargs):
        queryset = User.objects.filter(is_active=True)
        if scope == "agents":
            queryset = queryset.filter(teams__isnull=False).distinct()
        super().__init__(queryset=queryset,
                         widget=PersonPicker(scope=scope, team_field=team_field), **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, User | dict) else super().prepare_value(value)

    def to_python(self, value):
        if isinstance(value, dict):
            text = value["text"]
            found = list(self.queryset.filter(Q(username__iexact=text) | Q(email__iexact=text))[:2])
            if len(found) != 1:
                raise ValidationError(f"Choose someone from the list; “{text}” is not one "
                                      "person's username or e-mail.", code="invalid_choice")
            return found[0]
        if value not in self.empty_values and not parse_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


@login_required
@require_GET
def people(request):
    """Up to ten matches for the picker, as list items (agents only: no user directory)."""
    if not request.user.is_agent:
        raise Http404("No such page.")
    text = request.GET.get("q", "").strip()[:100]
    matches = people_search(text, agents_only=request.GET.get("scope") == "agents",
                            team_id=parse_id(request.GET.get("team", ""))) if text else []
    return render(request, "itsm/widgets/person_results.html", {"people": matches, "q": text})
