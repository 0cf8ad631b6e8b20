"""The /api/v1/ router: core configuration plus every app's routes, under one browsable root."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from attachments.api import AttachmentViewSet, IncidentAttachmentsView
from incidents.api.urls import router as incidents_router
from itsm.api import BusinessCalendarViewSet, ServiceViewSet, TeamViewSet
from oncall.api.urls import router as oncall_router
from problems.api.urls import router as problems_router

app_name = "api"

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("services", ServiceViewSet, basename="service")
router.register("calendars", BusinessCalendarViewSet, basename="calendar")
router.registry.extend(incidents_router.registry)
router.registry.extend(oncall_router.registry)
router.registry.extend(problems_router.registry)
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = [
    *router.urls,
    path("incidents/<str:number>/attachments/", IncidentAttachmentsView.as_view(),
         name="incident-attachments"),
]
