from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from incidents.sla import views as sla_views
from itsm import errors, people, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="incidents:queue", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
    path("me/time-zone/", views.time_zone_prompt, name="time-zone-prompt"),
    path("people/", people.people, name="people"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/unread/", views.unread_badge, name="unread-badge"),
    path("incidents/", include("incidents.urls")),
    path("oncall/", include("oncall.urls")),
    path("attachments/", include("attachments.urls")),
    path("requests/", include("portal.urls")),
    path("", include("problems.urls")),
    path("dashboard/sla/", sla_views.sla_dashboard, name="sla-dashboard"),
    path("dashboard/sla/export.csv", sla_views.sla_dashboard_csv, name="sla-dashboard-csv"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("itsm.api_urls")),
    path("api/schema/", views.SchemaView.as_view(), name="schema"),
    # A page for people: anonymous browsers go to the login page (the schema answers 401).
    path("api/docs/", login_required(SpectacularSwaggerView.as_view(url_name="schema")),
         name="api-docs"),
    # After every API route; paths without the slash still get APPEND_SLASH's redirect first.
    re_path(r"^api/(?P<path>.*/)?$", errors.api_not_found),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
