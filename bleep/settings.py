"""Django settings, read from the environment only (see README, "Configuration")."""

import math
import re
from datetime import timedelta
from pathlib import Path

import environ

from bleep.config import (
    DEFAULT_PUSH_HOSTS,
    ConfigurationError,
    check_ca_bundle,
    check_channels,
    check_fallback_order,
    check_push_hosts,
    check_send_limits,
    check_sso,
    check_vapid_subject,
    client_address_settings,
    read_or_create_secret,
    read_or_create_vapid_key,
    required,
    sso_job_map,
    whole_number,
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
# The exact origins (scheme, host, port) a WebSocket handshake may come from. Empty means
# derived from ALLOWED_HOSTS and the port `serve` listens on (bleep.origins).
ALLOWED_ORIGINS = env.list("ALLOWED_ORIGINS", default=[])
# The port `serve` listens on; `serve --port` replaces it before the application loads.
SERVE_PORT = 8000

# HTTPS only: redirect plain HTTP, HSTS, and cookies sent only over TLS. On whenever DEBUG
# is off; a plain-HTTP deployment on a private network turns it off with HTTPS_ONLY=0.
_https_only = env.str("HTTPS_ONLY", default="").lower()
if _https_only not in BOOLEANS:
    raise ConfigurationError("set HTTPS_ONLY to 1 or 0")
HTTPS_ONLY = BOOLEANS[_https_only] if _https_only else not DEBUG
SECURE_SSL_REDIRECT = HTTPS_ONLY
# A monitor asks over plain HTTP on the private network; a redirect is not an answer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if HTTPS_ONLY else 0
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
# TLS ended at a proxy: the header it sets on requests that came in over HTTPS, written as
# `X-Forwarded-Proto=https`. Trust it only when the proxy always sets or strips it.
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER: tuple[str, str] | None = None
if _proxy_header:
    _name, _, _value = _proxy_header.partition("=")
    if not _name.strip() or not _value.strip():
        raise ConfigurationError(
            "set SECURE_PROXY_SSL_HEADER to a header=value, such as X-Forwarded-Proto=https"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# includeSubDomains and preload bind every other site under the hospital's domain to HTTPS,
# which only its owner can decide: they stay off, so Django's reminders are silenced.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rota",
    "messaging",
    "escalation",
    "api",
]

MIDDLEWARE = [
    # First, so HTML that whitenoise serves from /static gets the policy too.
    "bleep.security.HtmlPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks a session signed in with a second factor; the admin (bleep/urls.py) asks for it.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a locked-out sign-in into the 429 (api.exceptions.locked_out).
    "axes.middleware.AxesMiddleware",
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

# A device token stops working after this many days unused, and this many days after its
# sign-in however much it is used: a lost or stolen phone cannot acknowledge bleeps (which
# stops their escalation) or read NHS numbers for ever.
try:
    DEVICE_IDLE_DAYS = env.int("DEVICE_IDLE_DAYS", default=30)
    DEVICE_LIFETIME_DAYS = env.int("DEVICE_LIFETIME_DAYS", default=90)
except ValueError:
    DEVICE_IDLE_DAYS = DEVICE_LIFETIME_DAYS = 0
if DEVICE_IDLE_DAYS < 1 or DEVICE_LIFETIME_DAYS < 1:
    raise ConfigurationError(
        "set DEVICE_IDLE_DAYS and DEVICE_LIFETIME_DAYS to a whole number of days, 1 or more"
    )

# The largest request body read at all: a rota import's file (IMPORT_MAX_BYTES, 2 MB, in
# rota/services/calendars/applying.py) is the largest thing the API takes; JSON bodies are
# held to DATA_UPLOAD_MAX_MEMORY_SIZE below. Anything larger is refused with 413 unread.
try:
    HTTP_BODY_MAX_BYTES = env.int("HTTP_BODY_MAX_BYTES", default=2 * 1024 * 1024)
except ValueError:
    HTTP_BODY_MAX_BYTES = 0
if HTTP_BODY_MAX_BYTES < 64 * 1024:  # below a JSON body's own limit, it would refuse those
    raise ConfigurationError("set HTTP_BODY_MAX_BYTES to a number of bytes, 65536 or more")

# Send limits (messaging/services/limits.py): routine and urgent bleeps past them are refused
# 429; emergencies and team calls never are, but count, and raise a flood alert. A busy ward
# nurse sends a few bleeps an hour, a handful in a bad ten minutes; ten in ten seconds is a
# whole bay's jobs at once, thirty in a minute is no person typing. The 1,000 in 25 s that
# drowned a registrar's phone would be stopped after the tenth.
SEND_LIMIT_PER_MINUTE = whole_number(env, "SEND_LIMIT_PER_MINUTE", 30, least=1)
SEND_LIMIT_BURST = whole_number(env, "SEND_LIMIT_BURST", 10, least=1)
check_send_limits(SEND_LIMIT_PER_MINUTE, SEND_LIMIT_BURST)
# A role's bleeps in a minute, from everyone, past which switchboard is alerted: a registrar
# on call answers one every few minutes on a bad night; twenty in a minute means misuse or a
# major incident, and switchboard must see either.
FLOOD_ROLE_PER_MINUTE = whole_number(env, "FLOOD_ROLE_PER_MINUTE", 20, least=1)

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
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes). The axes backend goes first, so a locked-out pair is
# refused before the password is even checked, the right password included.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# What a phone dials before a callback extension to reach it from outside the hospital's
# exchange (such as "01632 96" for direct dial-in), or nothing when the phones dial
# extensions as they are: the app's callback links are tel:PREFIX+EXTENSION.
CALLBACK_DIAL_PREFIX = env.str("CALLBACK_DIAL_PREFIX", default="").replace(" ", "")
if not re.fullmatch(r"\+?[0-9]{0,15}", CALLBACK_DIAL_PREFIX):
    raise ConfigurationError(
        "set CALLBACK_DIAL_PREFIX to digits (spaces allowed, a leading + too), such as 01632 96"
    )
# Fallback channels (docs/channels.md): text messages through GOV.UK Notify and a pager
# gateway speaking WCTP, for when the app does not confirm a bleep. Neither is needed: with
# none configured Bleep reaches people through the app and Web Push alone.
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", default="")
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
NOTIFY_SMS_TEMPLATE_ID = env.str("NOTIFY_SMS_TEMPLATE_ID", default="")
NOTIFY_SMS_SENDER_ID = env.str("NOTIFY_SMS_SENDER_ID", default="") or None
WCTP_URL = env.str("WCTP_URL", default="")
WCTP_SENDER_ID = env.str("WCTP_SENDER_ID", default="bleep")
WCTP_SECURITY_CODE = env.str("WCTP_SECURITY_CODE", default="")
check_channels(notify_key=NOTIFY_API_KEY, notify_template=NOTIFY_SMS_TEMPLATE_ID, wctp_url=WCTP_URL)
# Which channels a bleep the app has not confirmed goes on, in order, each after the wait
# for its priority from the one before (or from the send, for the first).
FALLBACK_ORDER = check_fallback_order(env.list("FALLBACK_ORDER", default=["sms", "pager"]))
FALLBACK_AFTER = {
    "emergency": whole_number(env, "FALLBACK_EMERGENCY_SECONDS", 30, least=0),
    "urgent": whole_number(env, "FALLBACK_URGENT_SECONDS", 120, least=0),
    "routine": whole_number(env, "FALLBACK_ROUTINE_SECONDS", 300, least=0),
}
# An emergency on every channel at once, not one after another.
FALLBACK_EMERGENCY_AT_ONCE = env.bool("FALLBACK_EMERGENCY_AT_ONCE", default=False)
# How long before a shift starts its holder is checked for a way to be reached.
CONTACT_CHECK_LEAD_MINUTES = whole_number(env, "CONTACT_CHECK_LEAD_MINUTES", 60, least=1)
# The address the app is served at, for the link in a text or pager message; none if unset.
APP_URL = env.str("APP_URL", default="").rstrip("/")

# Single sign-on with the hospital's OpenID Connect provider (docs/sso.md): off unless
# OIDC_ISSUER is set. The embedded default needs none of it.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_PRIVATE_KEY_FILE = env.str("OIDC_PRIVATE_KEY_FILE", default="")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your organisation's account")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid profile email")
# A person not yet linked is found by this claim, against this field of theirs; linked,
# by the provider's `sub` alone.
OIDC_MATCH_CLAIM = env.str("OIDC_MATCH_CLAIM", default="email")
OIDC_MATCH_FIELD = env.str("OIDC_MATCH_FIELD", default="email")
# Just-in-time creation of a person nobody matched, with the job OIDC_JOB_MAP gives the
# values of OIDC_JOB_CLAIM: off unless switched on, and no job without a mapping.
OIDC_CREATE_PEOPLE = env.bool("OIDC_CREATE_PEOPLE", default=False)
OIDC_JOB_CLAIM = env.str("OIDC_JOB_CLAIM", default="groups")
OIDC_JOB_MAP = sso_job_map(env.list("OIDC_JOB_MAP", default=[]))
# A device signed in through the provider signs in there again this long after, never
# while its person holds a shift: the end moves to the shift's end.
OIDC_REAUTH_HOURS = whole_number(env, "OIDC_REAUTH_HOURS", 24, least=1)
OIDC_CLOCK_LEEWAY_SECONDS = whole_number(env, "OIDC_CLOCK_LEEWAY_SECONDS", 60, least=0)
# The `acr` or `amr` values that show the provider checked two factors, which the admin asks
# for (CIS2: AAL3_ANY,AAL2_OR_AAL3_ANY; Entra ID and others: mfa).
OIDC_ADMIN_MFA = env.list("OIDC_ADMIN_MFA", default=["mfa"])
# How often each device's account is checked at the provider (by renewing its refresh
# token): an account disabled there has its devices ended within this long.
OIDC_CHECK_MINUTES = whole_number(env, "OIDC_CHECK_MINUTES", 15, least=1)
check_sso(
    issuer=OIDC_ISSUER,
    client_id=OIDC_CLIENT_ID,
    secret=OIDC_CLIENT_SECRET,
    key_file=OIDC_PRIVATE_KEY_FILE,
    match_field=OIDC_MATCH_FIELD,
)
# Password sign-in: off per deployment with PASSWORD_SIGN_IN=0 (then single sign-on only),
# and always off for a person linked to single sign-on unless given a break-glass grant.
PASSWORD_SIGN_IN = env.bool("PASSWORD_SIGN_IN", default=True)
if not PASSWORD_SIGN_IN and not OIDC_ISSUER:
    raise ConfigurationError("set OIDC_ISSUER before PASSWORD_SIGN_IN=0: nobody could sign in")
SIGN_IN_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=5)
if SIGN_IN_FAILURE_LIMIT < 1:
    raise ConfigurationError("set SIGN_IN_FAILURE_LIMIT to 1 or more")
SIGN_IN_COOL_OFF_MINUTES = env.int("SIGN_IN_COOL_OFF_MINUTES", default=15)
if SIGN_IN_COOL_OFF_MINUTES < 1:
    raise ConfigurationError("set SIGN_IN_COOL_OFF_MINUTES to 1 or more")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ConfigurationError("set TRUSTED_PROXY_COUNT to 0 or more")
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_COOL_OFF_MINUTES)
# One account from one address: a nurse's typos, or an attacker, lock only that pair, so
# nobody can lock the on-call registrar out of signing in from their own phone, and a
# hospital's staff behind one NAT address do not lock each other out with typos.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "api.exceptions.locked_out"
# Keep every failure as a row (admin: Access failures), not only the running count.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The WARNING log is the sign-ins' audit trail, so it names the account and the address
# (axes masks both by default); axes masks the password always.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# The client address, from X-Forwarded-For only through TRUSTED_PROXY_COUNT proxies.
AXES_IPWARE_META_PRECEDENCE_ORDER, AXES_IPWARE_PROXY_COUNT = client_address_settings(
    TRUSTED_PROXY_COUNT
)
# Not strict: a client-written entry makes the chain longer than the proxies, and strict
# ipware would then fall back to the socket peer, the proxy every client shares.
IPWARE_STRICT = False

# Second factor (django-otp). Authenticator apps show the account under this name.
OTP_TOTP_ISSUER = "Bleep"
# The admin lists people's authenticators (to remove a lost one) without their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

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
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every list is paged, generic views by this and APIViews by api.views.base.ListView.
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
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
        "ContactKindEnum": "messaging.models.ContactKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Every operation's 4xx and 5xx answers, in the API's one error shape.
        "api.schema.document_errors",
        # What each field means, where its serializer does not say (api/field_words.py).
        "api.schema.describe_fields",
    ],
}

# One process runs the escalation loop inside the server unless the worker is separate.
BLEEP_WORKER_IN_PROCESS = env.bool("BLEEP_WORKER_IN_PROCESS", default=EMBEDDED)

# The bearer token a Prometheus scrape of /metrics must send; metrics are off without one.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# `plain` lines for a person, or `json` lines for a log collector (docs/operations.md).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ConfigurationError("set LOG_FORMAT to plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object a line (python-json-logger), for a log collector: the same fields,
        # and the access log's client, request, status and length as fields of their own.
        "json": {
            "()": "bleep.redaction.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {"redact_paths": {"()": "bleep.redaction.RedactPathsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own handlers (a console one when DEBUG is on, mail to ADMINS) lack the
        # redaction filter and printed feed secrets: its records go to ours only.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # Its version banner at every start and command; its sign-in warnings come from
        # axes.handlers and stay.
        "axes.apps": {"level": "WARNING"},
    },
}
