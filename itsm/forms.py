import zoneinfo
from functools import cache

from django import forms
from django.conf import settings

from itsm.exceptions import InvalidInput

# In the tz database's list but no place anyone lives: "localtime" is the server's own setting,
# "Factory" a placeholder whose abbreviation is "-00".
NOT_PLACES = {"localtime", "Factory"}


@cache
def zone_names() -> tuple[str, ...]:
    """Every zone of the installed tz database, sorted (read once: it walks a directory)."""
    return tuple(sorted(zoneinfo.available_timezones() - NOT_PLACES))


def _folded(text: str) -> str:
    return text.strip().casefold().replace(" ", "_")


def match_zone(text: str) -> str:
    """The zone a person typed: its exact name in any case ("europe/berlin"), or the one zone
    whose name contains what was typed ("berl", "new york"); "" for the site default.

    Raises ValidationError naming a few candidates when several match, or none does.
    """
    wanted = _folded(text)
    if not wanted:
        return ""
    folded = {_folded(name): name for name in zone_names()}
    if wanted in folded:
        return folded[wanted]
    found = [name for key, name in folded.items() if wanted in key]
    if len(found) == 1:
        return found[0]
    if found:
        examples = ", ".join(found[:4])
        raise forms.ValidationError(
            f"“{text.strip()}” matches {len(found)} time zones ({examples}…): pick one from the "
            "list.", code="ambiguous")
    raise forms.ValidationError(
        f"“{text.strip()}” is not a known time zone: type part of a region or city (Berlin, "
        "New York) and pick it from the list.", code="unknown")


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Notifications go here.")
    phone = forms.CharField(max_length=40, required=False)
    # A text box over a <datalist> of every zone (templates/itsm/profile.html): typing "berl"
    # offers Europe/Berlin; the server takes any unambiguous part too, for browsers without.
    time_zone = forms.CharField(
        max_length=64, required=False, label="Time zone",
        help_text="Times are shown in this zone; empty = the site default.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off",
                                      "spellcheck": "false", "data-zone-input": "",
                                      "aria-describedby": "time-zone-help time-zone-now"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        placeholder = f"Site default ({settings.TIME_ZONE})"
        self.fields["time_zone"].widget.attrs["placeholder"] = placeholder
        zone = self.initial.get("time_zone")
        if isinstance(zone, zoneinfo.ZoneInfo):
            self.initial["time_zone"] = zone.key
        elif zone is None:
            self.initial["time_zone"] = ""

    def clean_time_zone(self) -> str:
        return match_zone(self.cleaned_data["time_zone"])


class ServiceErrorsMixin:
    """Show a service's InvalidInput on the fields it names, or above the form."""

    def add_service_errors(self, error: InvalidInput) -> None:
        if not error.field_errors:
            self.add_error(None, error.message)
        for name, messages in error.field_errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
