import pytest
from django.test import Client

from tests.config.views_for_tests import TEST_API_KEY


@pytest.fixture(autouse=True)
def _test_key_resolver(settings: object) -> None:
    settings.ACCORD_API_KEY_RESOLVER = "tests.config.views_for_tests.test_key_resolve"


@pytest.fixture
def api_client() -> Client:
    """A client that answers 500s instead of raising them, authenticated as tenant A."""
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {TEST_API_KEY}")
