"""Incident routes; `itsm.api_urls` merges them into the one /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from incidents.api.views import (
    CategoryViewSet,
    IncidentViewSet,
    SavedFilterViewSet,
    SlaPolicyViewSet,
)

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("categories", CategoryViewSet, basename="category")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("saved-filters", SavedFilterViewSet, basename="saved-filter")

urlpatterns = router.urls
