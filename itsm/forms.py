from django import forms
from timezone_field import TimeZoneFormField

from itsm.exceptions import InvalidInput


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Notifications go here.")
    phone = forms.CharField(max_length=40, required=False)
    time_zone = TimeZoneFormField(required=False, help_text="Times are shown in this zone.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = self.fields["time_zone"]
        zone.choices = [("", "Site default"), *zone.choices]


class ServiceErrorsMixin:
    """Show a service's InvalidInput on the fields it names, or above the form."""

    def add_service_errors(self, error: InvalidInput) -> None:
        if not error.field_errors:
            self.add_error(None, error.message)
        for name, messages in error.field_errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
