"""Routes of the requester portal, mounted at /requests/ by `itsm.urls`."""

from django.urls import path, register_converter

from portal import views


class RequestNumber:
    """An incident number, as the agents' pages take it: INC and at least seven digits."""

    regex = r"INC\d{7,}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(RequestNumber, "request_number")

app_name = "portal"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.new, name="new"),
    path("<request_number:number>/", views.detail, name="detail"),
    path("<request_number:number>/reply/", views.reply, name="reply"),
    path("<request_number:number>/confirm/", views.confirm, name="confirm"),
    path("<request_number:number>/reopen/", views.reopen, name="reopen"),
]
