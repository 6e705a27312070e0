"""The product's routes plus the convention test views (tests only)."""

from django.urls import include, path

from tests.config import views_for_tests as views

urlpatterns = [
    path("api/v1/_test/users", views.CreateUserApi.as_view()),
    path("api/v1/_test/user-list", views.UserListApi.as_view()),
    path("api/v1/_test/rule", views.RuleBreakingApi.as_view()),
    path("api/v1/_test/explode", views.ExplodingApi.as_view()),
    path("api/v1/_test/read-only", views.ReadOnlyApi.as_view()),
    path("api/v1/_test/authenticated", views.AuthenticatedApi.as_view()),
    path("api/v1/_test/public", views.PublicApi.as_view()),
    path("_test/plain-explode", views.plain_django_exploding_view),
    path("", include("config.urls")),
]

handler400 = "config.api.exceptions.bad_request"
handler403 = "config.api.exceptions.permission_denied"
handler404 = "config.api.exceptions.not_found"
handler500 = "config.api.exceptions.server_error"
