"""Django settings, read from the environment only (see README, "Configuration")."""

import math
from pathlib import Path

import environ

from bleep.config import (
    DEFAULT_PUSH_HOSTS,
    ConfigurationError,
    check_ca_bundle,
    check_push_hosts,
    check_vapid_subject,
    read_or_create_secret,
    read_or_create_vapid_key,
    required,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("BLEEP_DATA_DIR", default=str(BASE_DIR / "data")))
# The embedded default: no DATABASE_URL means SQLite, one process, secrets kept in DATA_DIR.
# An empty DATABASE_URL counts as unset, as a shell's `DATABASE_URL= make run` means.
DATABASE_URL = env.str("DATABASE_URL", default="")
EMBEDDED = not DATABASE_URL
SUPPORTED_DATABASES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
try:
    DATABASES = {
        "default": env.db_url_config(DATABASE_URL or f"sqlite:///{DATA_DIR / 'bleep.sqlite3'}")
    }
except (environ.ImproperlyConfigured, KeyError, ValueError):
    DATABASES = {"default": {"ENGINE": "unparsable"}}
if DATABASES["default"]["ENGINE"] not in SUPPORTED_DATABASES or not DATABASES["default"]["NAME"]:
    raise ConfigurationError(
        "set DATABASE_URL to postgres://user@host:port/name (or unset it for SQLite)"
    )
try:
    DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=1.0)
except ValueError:
    DB_POOL_TIMEOUT = math.nan
if not 0 < DB_POOL_TIMEOUT < math.inf:
    raise ConfigurationError("set DB_POOL_TIMEOUT to a number of seconds above 0, such as 1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Every database_sync_to_async call and every ASGI request ends by closing its
    # connection: without a pool each one opened a new PostgreSQL connection (~10 ms on
    # every socket action and worker turn), and keeping one per thread instead
    # (CONN_MAX_AGE) leaves one open for every short-lived request thread. A pool (psycopg's)
    # hands a connection back on close and out again at once; DB_POOL_SIZE per process.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": env.int("DB_POOL_SIZE", default=10),
            # How long a request waits for a connection before it answers 503. A process
            # needs at most HTTP_CONCURRENCY + the sockets' 4 threads + a few of its own at
            # once, under DB_POOL_SIZE, so a healthy pool hands one out in milliseconds;
            # waiting longer only means the database is down. With 10 s, requests hung
            # 10-15 s in an outage (HZ-16); at 1 s even a request queued behind a full set of
            # waiting ones answers within about 2 s.
            "timeout": DB_POOL_TIMEOUT,
            # psycopg_pool retries a failed connection with a doubling delay (1, 2, 4 … s)
            # for 5 minutes by default: after a 30 s outage its next try could be 30 s away.
            # Giving up after 5 s keeps the tries at most 2 s apart, and the next request
            # starts a new round at once, so the pool is back within moments of the database.
            "reconnect_timeout": 5.0,
        },
        # libpq's (and psycopg's) smallest: a connection attempt to a host that drops
        # packets gives up after 2 s, not psycopg's default 130 s, so the pool's three
        # connecting threads are free to try again as soon as the database returns.
        "connect_timeout": 2,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing
    # with "database is locked" half-way through sending a bleep.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_bleep.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False

BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
    "": EMBEDDED,
}
if env.str("DEBUG", default="").lower() not in BOOLEANS:
    raise ConfigurationError("set DEBUG to 1 or 0")
DEBUG = BOOLEANS[env.str("DEBUG", default="").lower()]

if env.str("SECRET_KEY", default=""):
    SECRET_KEY = env.str("SECRET_KEY")
elif EMBEDDED or DEBUG:
    SECRET_KEY = read_or_create_secret(DATA_DIR / "secret_key")
else:
    SECRET_KEY = required(env, "SECRET_KEY", "a long random string; required when DEBUG is off")

if env.str("VAPID_PRIVATE_KEY", default=""):
    VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", multiline=True)
elif EMBEDDED or DEBUG:
    VAPID_PRIVATE_KEY = read_or_create_vapid_key(DATA_DIR / "vapid_private.pem")
else:
    VAPID_PRIVATE_KEY = required(
        env, "VAPID_PRIVATE_KEY", "PEM or base64url raw EC P-256 key for Web Push"
    )
if env.str("VAPID_SUBJECT", default=""):
    VAPID_SUBJECT = env.str("VAPID_SUBJECT")
elif EMBEDDED or DEBUG:
    VAPID_SUBJECT = "mailto:bleep@localhost"
else:
    VAPID_SUBJECT = required(env, "VAPID_SUBJECT", "mailto: or https: contact for push services")
# Checked now, with the key, so a bad key or subject stops start-up rather than every push.
VAPID_SUBJECT = check_vapid_subject(VAPID_SUBJECT, VAPID_PRIVATE_KEY)
# Push-service hosts a subscription's endpoint may name; anything else is refused (SSRF).
PUSH_HOSTS = check_push_hosts(env.list("PUSH_HOSTS", default=DEFAULT_PUSH_HOSTS))
# CA bundle for the push services' TLS; unset means the system or certifi bundle.
PUSH_CA_BUNDLE = check_ca_bundle(env.str("PUSH_CA_BUNDLE", default=""))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "bleep",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rota",
    "messaging",
    "escalation",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bleep.urls"
ASGI_APPLICATION = "bleep.asgi.application"
AUTH_USER_MODEL = "rota.Person"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


# HTTP requests one process runs at once (each in a thread); more wait on the event loop.
HTTP_CONCURRENCY = env.int("HTTP_CONCURRENCY", default=4)
if HTTP_CONCURRENCY < 1:
    raise ConfigurationError("set HTTP_CONCURRENCY to 1 or more")

REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="bleep")
if REDIS_URL:
    # The pub/sub layer: at 1,000 clients it measured p99 2.0 ms against RedisChannelLayer's
    # 4.8 ms, and it has no per-consumer polling that times out in a reconnect storm. Both
    # are at-most-once; the stored, numbered event stream makes up for that.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served from the apps' own folders: no collectstatic step for an operator to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Browsers install the phone app only from a manifest served as what it is.
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A bleep is a few hundred bytes; anything near this limit is a mistake or an attack.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.DeviceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bleep API",
    "DESCRIPTION": "Role-addressed hospital bleeps. The WebSocket protocol is in docs/protocol.md.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "BleepStatusEnum": "messaging.models.BleepStatus",
        "DeliveryStatusEnum": "messaging.models.DeliveryStatus",
    },
}

# One process runs the escalation loop inside the server unless the worker is separate.
BLEEP_WORKER_IN_PROCESS = env.bool("BLEEP_WORKER_IN_PROCESS", default=EMBEDDED)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_paths": {"()": "bleep.redaction.RedactPathsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
