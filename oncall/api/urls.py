"""On-call routes; `itsm.api_urls` merges them into the one /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from oncall.api.views import (
    EscalationPolicyViewSet,
    OverrideViewSet,
    PageViewSet,
    ScheduleViewSet,
)

router = SimpleRouter()
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("overrides", OverrideViewSet, basename="override")
router.register("escalation-policies", EscalationPolicyViewSet, basename="escalation-policy")
router.register("pages", PageViewSet, basename="page")

urlpatterns = router.urls
