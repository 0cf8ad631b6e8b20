"""Problem and knowledge routes; `itsm.api_urls` merges them into the one /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from problems.api.views import (
    ArticleViewSet,
    KnownErrorViewSet,
    ProblemViewSet,
    SuggestionViewSet,
)

router = SimpleRouter()
router.register("problems", ProblemViewSet, basename="problem")
router.register("known-errors", KnownErrorViewSet, basename="known-error")
router.register("articles", ArticleViewSet, basename="article")
router.register("suggestions", SuggestionViewSet, basename="suggestion")

urlpatterns = router.urls
