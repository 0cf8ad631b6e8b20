from django.urls import path

from oncall.views import paging, roster

app_name = "oncall"
urlpatterns = [
    # Rosters (oncall.views.roster)
    path("", roster.now, name="now"),
    path("me/", roster.my_shifts, name="me"),
    path("schedules/<int:pk>/", roster.schedule, name="schedule"),
    path("schedules/<int:pk>/overrides/", roster.override_add, name="override-add"),
    path("overrides/<int:pk>/delete/", roster.override_delete, name="override-delete"),
    path("schedules/<int:pk>/swaps/", roster.swap_add, name="swap-add"),
    path("swaps/<int:pk>/<slug:action>/", roster.swap_act, name="swap-act"),
    path("schedules/<int:pk>/feed/<str:token>.ics", roster.schedule_feed, name="schedule-feed"),
    path("people/<int:pk>/feed/<str:token>.ics", roster.person_feed, name="person-feed"),
    path("contact-methods/", roster.contact_method_add, name="contact-method-add"),
    path("contact-methods/<int:pk>/delete/", roster.contact_method_delete,
         name="contact-method-delete"),
    path("rules/", roster.rule_add, name="rule-add"),
    path("rules/<int:pk>/delete/", roster.rule_delete, name="rule-delete"),
    path("test-notification/", roster.test_notification, name="test-notification"),
    # Escalation and paging (oncall.views.paging)
    path("policies/", paging.policies, name="policies"),
    path("policies/new/", paging.policy_edit, name="policy-new"),
    path("policies/<int:pk>/edit/", paging.policy_edit, name="policy-edit"),
    path("dry-run/", paging.dry_run, name="dry-run"),
    path("matrix/", paging.matrix, name="matrix"),
    path("pages/", paging.pages, name="pages"),
    path("ack/<str:token>/", paging.ack_link, name="ack"),
    path("pages/<int:pk>/acknowledge/", paging.acknowledge, name="acknowledge"),
    path("incidents/<str:number>/page/", paging.page_team, name="page-team"),
]
