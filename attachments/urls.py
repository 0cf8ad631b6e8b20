from django.urls import path

from attachments import views

app_name = "attachments"
urlpatterns = [
    path("<uuid:pk>/<str:name>", views.download, name="download"),
]
