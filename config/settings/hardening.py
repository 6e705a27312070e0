"""Hardening against outside attack (issue 13), kept apart so each choice is read in one place.

Read after `config.settings.core`, whose values it uses and extends (the log levels).
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.settings.core import *  # noqa: F403
from config.settings.core import (
    ACCORD_TRUSTED_PROXY_COUNT,
    LOGGING,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
    env,
)

# How long a process skips a cache (Redis) that failed to answer before trying it again
# (config/cache.py): meanwhile reads go on without rate limits or public caching and
# API writes are 503 with Retry-After (docs/operations.md).
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)

# A real Stripe key with the sandbox's public webhook secret (or none) would accept
# webhooks that anyone can sign: refuse to start (finding 4). The sandbox key keeps
# the embedded default and the tests running as before.
_SANDBOX_WEBHOOK_SECRET = "whsec_accord_sandbox"
if STRIPE_SECRET_KEY != "sk_test_accord_sandbox" and STRIPE_WEBHOOK_SECRET in {
    "",
    _SANDBOX_WEBHOOK_SECRET,
}:
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY is a real Stripe key, but STRIPE_WEBHOOK_SECRET is unset or the "
        "public sandbox secret, so anyone could sign webhooks. Set STRIPE_WEBHOOK_SECRET to "
        "the endpoint's signing secret (whsec_...) from Stripe."
    )

# The admin login is throttled by django-axes (finding 6): after ADMIN_LOGIN_FAILURE_LIMIT
# wrong passwords for one username (from anywhere) or from one address (for any
# username), every login for it is refused, the right password included, until staff
# reset it (`manage.py axes_reset_username NAME`, `axes_reset_ip ADDRESS`, or the
# admin's "Access attempts" page) or the cool-off passes (docs/operations.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
# The same address the rate limiter counts: behind N trusted proxies, their Nth hop.
AXES_CLIENT_IP_CALLABLE = "config.api.throttling.login_client_address"
# Lockouts are logged at WARNING; each successful login and each start-up at INFO.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# Behind TLS (finding 16): `ACCORD_HTTPS=1` turns on HSTS, HTTPS-only cookies and the
# redirect of plain HTTP (the health probe excepted, for load balancers that probe
# over HTTP); `manage.py check --deploy` is then clean (tests/config/test_deploy.py).
# Behind a TLS-terminating proxy (TRUSTED_PROXY_COUNT > 0), its X-Forwarded-Proto says
# whether the request came over TLS; the proxy must overwrite what a client sends.
ACCORD_HTTPS = env.bool("ACCORD_HTTPS", default=False)
if ACCORD_HTTPS:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if ACCORD_TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every HTML page, TLS or not, so that a page that would
# break under it breaks in development and in the browser test first
# (config/security_headers.py; tests/browser/test_csp.py). The portal (Django's
# admin) loads only its own scripts and styles; Swagger UI's page at /api/v1/docs/
# (its init script served apart, the split view) keeps drf-spectacular's inline
# <style>, so it alone allows inline styles.
ACCORD_CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
)
ACCORD_CONTENT_SECURITY_POLICY_BY_PATH = {
    "/api/v1/docs/": ACCORD_CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}
