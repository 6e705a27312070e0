"""Settings, all read from the environment (django-environ).

Nothing here needs to be set for a first run: the database defaults to an SQLite
file, Celery runs eagerly and the cache is in process memory. Production and CI set
`DATABASE_URL` (PostgreSQL) and `REDIS_URL` (broker, cache, rate limits).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.secrets import secret_key_setting, signing_key_encryption_keys_setting

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# --- Secrets: SECRET_KEY and the certificate signing keys' own encryption key ---------
# config/secrets.py says when Accord refuses to start; docs/development.md ("Secrets")
# and docs/licensees.md (rotating the encryption key) say how to set and rotate them.
# Unset, each comes from a value generated once per checkout (a git-ignored file), so a
# first run needs no setting; a deployment that talks to a real Stripe must set both.
ACCORD_LOCAL_SECRETS_FILE = Path(
    env("ACCORD_LOCAL_SECRETS_FILE", default=str(BASE_DIR / ".accord-local-secrets.json"))
)
ACCORD_LOCAL_SECRETS = env.bool(
    # Generated local secrets are for checkouts that talk to the sandbox, not to Stripe.
    "ACCORD_LOCAL_SECRETS",
    default=env("STRIPE_SECRET_KEY", default="") in {"", "sk_test_accord_sandbox"},
)
SECRET_KEY = secret_key_setting(
    configured=env.str("SECRET_KEY", default=None),
    debug=DEBUG,
    local_allowed=ACCORD_LOCAL_SECRETS,
    local_file=ACCORD_LOCAL_SECRETS_FILE,
)
# Fernet keys, comma-separated: the first encrypts new signing keys, every one decrypts.
# Rotate by putting a new key first and running `manage.py signing_key_reencrypt`.
ACCORD_SIGNING_KEY_ENCRYPTION_KEYS = signing_key_encryption_keys_setting(
    configured=env.list("ACCORD_SIGNING_KEY_ENCRYPTION_KEYS", default=None),
    debug=DEBUG,
    local_allowed=ACCORD_LOCAL_SECRETS,
    local_file=ACCORD_LOCAL_SECRETS_FILE,
)
# --- end of secrets ----------------------------------------------------------------

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "config.api",
    "ledger",
    "licensing",
    "licensing.certificates",
    "payouts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security_headers.ContentSecurityPolicyMiddleware",
    "config.api.middleware.NulCharacterGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.api.idempotency.IdempotencyKeyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The front door and the portal's brand (admin/base_site.html), which must come
        # before django.contrib.admin's own templates.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the dev server, eager tasks, the sandbox's webhooks) share one
    # file. WAL lets reads go on while one connection writes; a transaction takes the
    # write lock when it begins (IMMEDIATE), so it waits up to `timeout` for its turn
    # instead of failing with "database is locked" when a read in it turns into a write:
    # writes are serialised, never refused (tests/payouts/stripe/test_embedded_sqlite.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
# Keep a worker's database connection between requests: opening one per request (a
# forked PostgreSQL backend) halved throughput in bench.api (docs/benchmarks.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DB_SERVER_SIDE_BINDING", default=True
):
    # Server-side parameters spare psycopg quoting every value in Python, and let it
    # prepare a statement after its fifth run on a connection (Django turns that off
    # unless asked): the API's queries repeat on kept connections, and planning their
    # joins anew each time cost PostgreSQL more than running them (docs/benchmarks.md).
    # psycopg prepares at once with 0 and never with None: "off" (or -1) is None.
    _prepare_threshold = env("DB_PREPARE_THRESHOLD", default="5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=None if _prepare_threshold in {"off", "-1"} else int(_prepare_threshold),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="accord"),
            # A Redis that stopped answering must cost a request a second at most,
            # once: config.cache then skips it for CACHE_RETRY_SECONDS.
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_TIMEOUT_SECONDS", default=1.0),
                "socket_timeout": env.float("REDIS_TIMEOUT_SECONDS", default=1.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Sealing is sequential by design; a short period keeps the unsealed tail small.
    "ledger-seal": {"task": "ledger.tasks.ledger_seal_task", "schedule": 5.0},
    "licenses-expire": {"task": "licensing.tasks.licenses_expire_task", "schedule": 300.0},
    # Usage partitions of the coming months; the ingest also makes a missing one itself.
    "usage-partitions-ahead": {
        "task": "licensing.tasks.usage_partitions_ahead_task",
        "schedule": 86_400.0,
    },
    # Webhook events whose processing failed: the endpoint answered 200, so Stripe won't.
    "stripe-events-pending": {
        "task": "payouts.stripe.tasks.stripe_events_pending_process_task",
        "schedule": 60.0,
    },
    "idempotency-records-purge": {
        "task": "config.api.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
    },
    # Runs a dead worker left approved or half-posted are posted on (idempotent keys).
    "royalty-runs-resume": {"task": "payouts.tasks.royalty_runs_resume_task", "schedule": 300.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]  # the front door's and portal's brand
# Only a production deploy that runs collectstatic sets it; WhiteNoise finds the rest.
STATIC_ROOT = env("STATIC_ROOT", default=None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders, so no collectstatic is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The largest request body the API reads; 10,000 usage events fit well inside it.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# How long a request holding an Idempotency-Key may run before a retry may take it over.
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=60)
# A claim younger than this is a request still running (Retry-After: 1); an older one
# is taken for a crash's, and Retry-After says when its lock expires.
IDEMPOTENCY_IN_FLIGHT_SECONDS = env.int("IDEMPOTENCY_IN_FLIGHT_SECONDS", default=5)
IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=24)
# Turns a raw API key into (user, principal); the catalogue owns the key model.
ACCORD_API_KEY_RESOLVER = env(
    "ACCORD_API_KEY_RESOLVER", default="licensing.selectors.api_keys.api_key_resolve"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.BearerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ApiKeyRateThrottle"],
}

# Requests per API key (scope "default", or a view's `throttle_scope`) and, for the
# public endpoints, per client address. Counted in the cache, so shared by every process.
ACCORD_RATE_LIMITS = {
    "default": env("RATE_LIMIT_DEFAULT", default="3000/min"),
    "public": env("RATE_LIMIT_PUBLIC", default="120/min"),
    # Requests with a refused key, per address: a misconfigured client still learns
    # its key is wrong (401), a flood of bad keys gets 429s (issue 13, finding 11).
    "invalid_key": env("RATE_LIMIT_INVALID_KEY", default="30/min"),
}
ACCORD_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Accord API",
    "DESCRIPTION": "Licensing and compensation ledger for creative work used by AI.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "LicenseStatusEnum": "licensing.models.License.Status",
        "OfferStatusEnum": "licensing.models.Offer.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.idempotency_key_document",
    ],
}

# The platform's commission on every sale, in basis points of the price (1,000 = 10%).
ACCORD_COMMISSION_BASIS_POINTS = env.int("COMMISSION_BASIS_POINTS", default=1000)
# A royalty run whose gross in a currency is above this (minor units) needs a second,
# different finance user's approval (docs/royalties.md).
ROYALTY_SECOND_APPROVAL_ABOVE = {
    "eur": env.int("ROYALTY_SECOND_APPROVAL_ABOVE_EUR", default=1_000_000),
    "usd": env.int("ROYALTY_SECOND_APPROVAL_ABOVE_USD", default=1_000_000),
    "gbp": env.int("ROYALTY_SECOND_APPROVAL_ABOVE_GBP", default=1_000_000),
}
# How licensing charges cards: the port licensing/services/card_payments.py, which payouts
# implements.
ACCORD_CARD_PAYMENTS = "payouts.stripe.card_payments.StripeCardPayments"

# Stripe: a real test-mode key talks to Stripe; without one, the local sandbox.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_USES_SANDBOX = not STRIPE_SECRET_KEY
if STRIPE_USES_SANDBOX:
    STRIPE_SECRET_KEY = "sk_test_accord_sandbox"
STRIPE_API_BASE = env(
    "STRIPE_API_BASE", default="http://127.0.0.1:12111" if STRIPE_USES_SANDBOX else ""
)
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_accord_sandbox")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # The SDK logs every request at INFO; the gateway logs what matters.
        "stripe": {"level": "WARNING"},
    },
}

# --- Hardening against outside attack (issue 13) ------------------------------------
# Kept together, apart from the rest, so each choice is read in one place.

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
# (config/security_headers.py; tests/config/test_csp_browser.py). The portal (Django's
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

# --- Payouts (issue 17, docs/payouts.md) ---------------------------------------------
# Stripe requests a second for the whole platform, shared by every worker through a
# Redis token bucket (Stripe's test mode answers 429 above 25).
STRIPE_REQUESTS_PER_SECOND = env.float("STRIPE_REQUESTS_PER_SECOND", default=25.0)
STRIPE_REQUESTS_BURST = env.int("STRIPE_REQUESTS_BURST", default=1)
STRIPE_RATE_LIMIT_KEY = env("STRIPE_RATE_LIMIT_KEY", default="accord:stripe-requests")
# The smallest payout per currency, in minor units (a creator below it is skipped).
PAYOUT_MINIMUM = env.int("PAYOUT_MINIMUM", default=1_000)
PAYOUT_MINIMUM_BY_CURRENCY: dict[str, int] = {}
# A batch whose total (minor units) is above this needs two different approvers.
PAYOUT_SECOND_APPROVAL_ABOVE = env.int("PAYOUT_SECOND_APPROVAL_ABOVE", default=1_000_000)
# Items per Celery job of a dispatch, and the retries of one transfer within a job.
PAYOUT_CHUNK_SIZE = env.int("PAYOUT_CHUNK_SIZE", default=50)
# A dispatch is cut into at least this many jobs (smaller ones for a small batch), so
# that every worker process has work until the end instead of one finishing the
# last big chunk alone at a fraction of the rate limit.
PAYOUT_FAN_OUT_CHUNKS_MIN = env.int("PAYOUT_FAN_OUT_CHUNKS_MIN", default=32)
PAYOUT_TRANSIENT_RETRIES_MAX = env.int("PAYOUT_TRANSIENT_RETRIES_MAX", default=6)
PAYOUT_BACKOFF_BASE_SECONDS = env.float("PAYOUT_BACKOFF_BASE_SECONDS", default=0.1)
PAYOUT_BACKOFF_MAX_SECONDS = env.float("PAYOUT_BACKOFF_MAX_SECONDS", default=5.0)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# How long a job taken by a worker that died unseen (SIGKILL of the whole worker) stays
# hidden before Redis hands it out again; a job must finish well within it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600)
}
CELERY_BEAT_SCHEDULE["payouts-reconcile-daily"] = {
    "task": "payouts.tasks.reconciliation_daily_task",
    "schedule": crontab(hour=3, minute=0),
}
