from django import forms

from itsm.models import TIME_ZONE_CHOICES


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Notifications go here.")
    phone = forms.CharField(max_length=40, required=False)
    time_zone = forms.ChoiceField(choices=[("", "Site default"), *TIME_ZONE_CHOICES],
                                  required=False, help_text="Times are shown in this zone.")
