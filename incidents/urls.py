from django.urls import path, register_converter

from incidents import views


class NumberConverter:
    regex = r"INC\d{7,}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NumberConverter, "incident")

app_name = "incidents"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.new, name="new"),
    path("new/priority/", views.priority_preview, name="priority-preview"),
    path("bulk/", views.bulk, name="bulk"),
    path("filters/", views.filter_save, name="filter-save"),
    path("filters/<int:pk>/delete/", views.filter_delete, name="filter-delete"),
    path("<incident:number>/", views.detail, name="detail"),
    path("<incident:number>/sla/", views.sla_explain, name="sla"),
    path("<incident:number>/<slug:action>/", views.act, name="act"),
]
