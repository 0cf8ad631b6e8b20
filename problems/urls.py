"""Routes of problems (/problems/), the known-error database (/known-errors/) and articles
(/articles/), mounted at the site root by `itsm.urls`."""

from django.urls import path, register_converter

from problems import views


def number(prefix: str) -> type:
    """A path converter for record numbers: the prefix and at least seven digits."""

    class Number:
        regex = rf"{prefix}\d{{7,}}"

        def to_python(self, value):
            return value

        def to_url(self, value):
            return value

    return Number


register_converter(number("PRB"), "problem")
register_converter(number("KE"), "known_error")
register_converter(number("KB"), "article")

KE = {"kind": "known_error"}
KB = {"kind": "article"}
app_name = "problems"
urlpatterns = [
    path("problems/", views.queue, name="queue"),
    path("problems/new/", views.new, name="new"),
    path("problems/suggest/", views.suggest, name="suggest"),
    path("problems/suggested/<int:pk>/dismiss/", views.suggestion_dismiss,
         name="suggestion-dismiss"),
    path("problems/<problem:number>/", views.detail, name="detail"),
    path("problems/<problem:number>/<slug:action>/", views.act, name="act"),
    path("known-errors/", views.knowledge_list, KE, name="known-errors"),
    path("known-errors/new/", views.knowledge_edit, KE, name="known-error-new"),
    path("known-errors/<known_error:number>/", views.knowledge_detail, KE, name="known-error"),
    path("known-errors/<known_error:number>/edit/", views.knowledge_edit, KE,
         name="known-error-edit"),
    path("known-errors/<known_error:number>/status/", views.knowledge_status, KE,
         name="known-error-status"),
    path("known-errors/<known_error:number>/apply/", views.workaround_apply, name="apply"),
    path("known-errors/<known_error:number>/resolve/", views.workaround_resolve,
         name="workaround-resolve"),
    path("articles/", views.knowledge_list, KB, name="articles"),
    path("articles/new/", views.knowledge_edit, KB, name="article-new"),
    path("articles/<article:number>/", views.knowledge_detail, KB, name="article"),
    path("articles/<article:number>/edit/", views.knowledge_edit, KB, name="article-edit"),
    path("articles/<article:number>/status/", views.knowledge_status, KB,
         name="article-status"),
]
