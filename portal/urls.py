"""Routes of the requester portal, mounted at /requests/ by `itsm.urls`."""

from django.urls import path

import incidents.urls  # noqa: F401 (registers the "incident" converter: INC and 7+ digits)
from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.new, name="new"),
    path("<incident:number>/", views.detail, name="detail"),
    path("<incident:number>/reply/", views.reply, name="reply"),
    path("<incident:number>/confirm/", views.confirm, name="confirm"),
    path("<incident:number>/reopen/", views.reopen, name="reopen"),
]
