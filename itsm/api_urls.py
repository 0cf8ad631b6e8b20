from django.urls import include, path

urlpatterns = [
    path("", include("incidents.api.urls")),
]
