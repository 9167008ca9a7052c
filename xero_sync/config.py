"""Every setting of xero-sync, in one object read from the environment when asked for.

`Settings.from_env()` reads and validates every variable (the table in README.md's
*Configuration* lists them; tests/test_config_table.py keeps the two equal). It is called when a
command, the web app, a run, a sensor or schedule tick starts, and once when the Dagster
definitions load (`xero_sync.definitions.build_defs`: the shard a code location serves and the
sensors' interval), never at import time. A malformed variable is a ConfigError naming the
variable and what is wrong, wherever the settings are read; what only one face needs (the web
app's secrets in real mode, `check_web`, `xero_sync.web.settings.WebSettings.of`) is checked by it.

Embedded defaults run everything on one machine: a SQLite platform store under `.xero-sync/` and
the bundled Xero sandbox on 127.0.0.1:5055 with its demo app credentials. Production sets the
`XERO_*` URLs (or leaves them unset for real Xero), a client id/secret and an encryption key.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

SANDBOX_DEFAULT_URL = "http://127.0.0.1:5055"
# The sandbox's demo app. Not secret: it only opens the local sandbox.
DEMO_CLIENT_ID = "xero-sync-demo"
DEMO_CLIENT_SECRET = "demo-secret-sandbox-only"
DEMO_WEBHOOK_KEY = "demo-webhook-key-sandbox-only"

REAL_XERO = {
    "api_url": "https://api.xero.com/api.xro/2.0",
    "connections_url": "https://api.xero.com/connections",
    "authorize_url": "https://login.xero.com/identity/connect/authorize",
    "token_url": "https://identity.xero.com/connect/token",
}

SCOPES = (
    "offline_access openid profile email accounting.contacts accounting.settings "
    "accounting.transactions accounting.reports.read"  # the diff reads Reports/TrialBalance
)

PUBLIC_URL_ENV = "XERO_SYNC_PUBLIC_URL"
# The app-wide minute budget (store.rate_windows; default 9,000 of Xero's 10,000), e.g. lower
# to leave room for another consumer of the same Xero app, or to match a sandbox's smaller limit.
APP_MINUTE_LIMIT_ENV = "XERO_SYNC_APP_MINUTE_LIMIT"
SENSOR_INTERVAL_ENV = "XERO_SYNC_SENSOR_INTERVAL"
SERVICE_TOKEN_ENV = "XERO_SYNC_SERVICE_TOKEN"
ENCRYPTION_KEY_ENV = "XERO_SYNC_ENCRYPTION_KEY"
SIGNIN_SECRET_ENV = "XERO_SYNC_SIGNIN_SECRET"
SIGNIN_JWKS_URL_ENV = "XERO_SYNC_SIGNIN_JWKS_URL"
DEPLOY_PG_URL_ENV = "XERO_SYNC_DEPLOY_PG_URL"
# Where the data team opens the Dagster UI; partner_health's links start with it (unset: links are
# root-relative, `/assets/...`, resolved by the UI that shows them).
DAGSTER_UI_URL_ENV = "XERO_SYNC_DAGSTER_UI_URL"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# Partner shards (xero_sync/shards/).
DEFAULT_SHARD_PARTITIONS = 50_000  # Dagster's UI stays usable; see docs/operations.md "Partner shards"
# Cohort runs (xero_sync/cohorts/).
DEFAULT_COHORT_SIZE = 100
DEFAULT_COHORT_WORKERS = 8
MAX_COHORT_SIZE = 1000  # a cohort's partners travel in the run config; keep a run's config readable
MAX_COHORT_WORKERS = 64  # each worker holds a tenant lock, a DB connection and up to 5 Xero calls
# The web app (xero_sync/web/settings.py).
DEFAULT_ISSUER = "alternative-partner-dashboard"
MIN_SIGNIN_SECRET_LENGTH = 32  # HS256 with a short secret can be brute-forced offline from one link
DEFAULT_SESSION_HOURS = 8
# An events API body (1 MiB) plus room; webhooks and forms are far smaller. waitress's own
# default is 1 GiB, read in full before anything could refuse it.
DEFAULT_MAX_BODY = 2 * 1024 * 1024
# Idle connections cost a socket each, not a thread: allow many more than a burst of slow
# clients, and drop the idle ones soon (waitress: 100 connections, 120 s).
DEFAULT_CONNECTION_LIMIT = 500
DEFAULT_CHANNEL_TIMEOUT = 20
DEFAULT_DEPLOY_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and what is wrong."""


@dataclass(frozen=True)
class XeroEndpoints:
    api_url: str  # .../api.xro/2.0
    connections_url: str  # .../connections
    authorize_url: str  # .../connect/authorize
    token_url: str  # .../connect/token

    @classmethod
    def for_base(cls, base_url: str) -> "XeroEndpoints":
        """The sandbox (or anything shaped like it) serves every endpoint under one base URL."""
        base = base_url.rstrip("/")
        return cls(
            api_url=f"{base}/api.xro/2.0",
            connections_url=f"{base}/connections",
            authorize_url=f"{base}/connect/authorize",
            token_url=f"{base}/connect/token",
        )


def _var(name: str, default: Any = None, **kw: Any) -> Any:
    """A field read from the environment variable `name` (exactly: names are case-sensitive)."""
    return Field(default, validation_alias=name, **kw)


# Whole-number settings: (minimum, maximum or None).
_WHOLE_NUMBERS = {
    "shard_count": (1, None),
    "shard": (0, None),
    "shard_partitions": (1, None),
    "cohort_size": (1, MAX_COHORT_SIZE),
    "cohort_workers": (1, MAX_COHORT_WORKERS),
    "app_minute_limit": (1, None),
    "sensor_interval": (1, None),
    "session_hours": (1, 72),
    "web_max_body_bytes": (64 * 1024, None),
    "web_connection_limit": (10, 10_000),
    "web_channel_timeout": (1, 600),
}
# Values whose surrounding blanks are dropped, an empty one meaning unset.
_TRIMMED = ("encryption_key", "signin_secret", "signin_jwks_url", "signin_issuer", "signin_audience",
            "web_secret", "service_token")

_environment: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "xero_sync_settings_environment", default=None)


class _Environment(EnvSettingsSource):
    """The environment `Settings.from_env(env)` was given (else os.environ), names as written."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = dict(environ)


class Settings(BaseSettings):
    """Every xero-sync setting: the field, its variable (the alias), its default and its check.

    Build it with `Settings.from_env()` (os.environ) or `Settings.from_env(mapping)` (tests, the
    demo's own environment); `database_url`, `client_id`, `client_secret` and `webhook_key` are
    filled from the others when unset (the SQLite file in `home`; the sandbox's demo app)."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, extra="ignore",
                                      validate_default=True)

    # Where state lives.
    home: Path = _var("XERO_SYNC_HOME", Path(".xero-sync"))
    database_url: str = _var("XERO_SYNC_DATABASE_URL", "")  # "": sqlite:///<home>/xero_sync.db
    encryption_key: str | None = _var(ENCRYPTION_KEY_ENV, repr=False)  # None: the key file in home
    # Which Xero, and our app there.
    xero_mode: str = _var("XERO_SYNC_XERO", "sandbox")
    sandbox_url: str = _var("XERO_SYNC_SANDBOX_URL", SANDBOX_DEFAULT_URL)
    client_id: str = _var("XERO_CLIENT_ID", "")  # "": the sandbox's demo app (sandbox only)
    client_secret: str = _var("XERO_CLIENT_SECRET", "", repr=False)
    # None in real mode when XERO_WEBHOOK_KEY is unset: every webhook is refused.
    webhook_key: str | None = _var("XERO_WEBHOOK_KEY", repr=False)
    app_minute_limit: int | None = _var(APP_MINUTE_LIMIT_ENV)  # None: store.rate_windows' default
    # The web app (`xero-sync web`).
    web_secret: str | None = _var("XERO_SYNC_WEB_SECRET", repr=False)  # None: a generated file (sandbox)
    public_url: str | None = _var(PUBLIC_URL_ENV)  # where partners and Xero reach the web app
    signin_secret: str | None = _var(SIGNIN_SECRET_ENV, repr=False)  # the dashboard's HS256 secret
    signin_jwks_url: str | None = _var(SIGNIN_JWKS_URL_ENV)  # or its RS256 keys
    signin_issuer: str | None = _var("XERO_SYNC_SIGNIN_ISSUER")  # None: DEFAULT_ISSUER
    signin_audience: str | None = _var("XERO_SYNC_SIGNIN_AUDIENCE")  # None: the public URL
    session_hours: int = _var("XERO_SYNC_SESSION_HOURS", DEFAULT_SESSION_HOURS)
    web_max_body_bytes: int = _var("XERO_SYNC_WEB_MAX_BODY_BYTES", DEFAULT_MAX_BODY)
    web_connection_limit: int = _var("XERO_SYNC_WEB_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT)
    web_channel_timeout: int = _var("XERO_SYNC_WEB_CHANNEL_TIMEOUT", DEFAULT_CHANNEL_TIMEOUT)
    service_token: str | None = _var(SERVICE_TOKEN_ENV, repr=False)  # None: the events API answers 503
    # Partner shards and cohort runs.
    shard_count: int = _var("XERO_SYNC_SHARDS", 1)
    shard: int = _var("XERO_SYNC_SHARD", 0)  # read once by build_defs when the definitions load
    shard_partitions: int = _var("XERO_SYNC_SHARD_PARTITIONS", DEFAULT_SHARD_PARTITIONS)
    cohort_size: int = _var("XERO_SYNC_COHORT_SIZE", DEFAULT_COHORT_SIZE)
    cohort_workers: int = _var("XERO_SYNC_COHORT_WORKERS", DEFAULT_COHORT_WORKERS)
    # None: each sensor's own interval; read once by build_defs when the definitions load.
    sensor_interval: int | None = _var(SENSOR_INTERVAL_ENV)
    # `deploy-local`'s PostgreSQL server.
    deploy_pg_url: str = _var(DEPLOY_PG_URL_ENV, DEFAULT_DEPLOY_PG_URL)
    dagster_ui_url: str = _var(DAGSTER_UI_URL_ENV, "")  # "": links into the UI stay relative

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _environment.get()
        return (init_settings, _Environment(settings_cls, os.environ if environ is None else environ))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Every setting from `env` (default os.environ); a ConfigError naming the first bad one.

        The variables are read on every call; checking them is done once per distinct set of
        values (and working directory, which a relative XERO_SYNC_HOME depends on), since
        resources ask for the settings many times per run."""
        environ = os.environ if env is None else env
        given = tuple(sorted((name, environ[name]) for name in _variable_names() if name in environ))
        return _checked(cls, given, os.getcwd())

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> environment variable, for every setting."""
        return {name: str(field.validation_alias) for name, field in cls.model_fields.items()}

    # -- checks, one variable each ------------------------------------------------------------

    @field_validator(*_TRIMMED, mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator(*_WHOLE_NUMBERS, mode="before")
    @classmethod
    def _whole_number(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        name = str(info.field_name)  # set for field validators
        field = cls.model_fields[name]
        minimum, maximum = _WHOLE_NUMBERS[name]
        return whole_number(str(field.validation_alias), value, field.default, minimum=minimum, maximum=maximum)

    @field_validator("deploy_pg_url", mode="before")
    @classmethod
    def _deploy_pg_url(cls, value: object) -> object:
        return value or DEFAULT_DEPLOY_PG_URL

    @field_validator("home", mode="after")
    @classmethod
    def _home(cls, value: Path) -> Path:
        return value.resolve()

    @field_validator("database_url", mode="after")
    @classmethod
    def _database_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return f"sqlite:///{info.data['home'] / 'xero_sync.db'}" if "home" in info.data else ""
        if "://" not in value:
            raise ConfigError(
                f"XERO_SYNC_DATABASE_URL={value!r} is not a SQLAlchemy URL "
                "(expected e.g. postgresql+psycopg://user@host/db or sqlite:///path)"
            )
        return value

    @field_validator("xero_mode", mode="after")
    @classmethod
    def _xero_mode(cls, value: str) -> str:
        value = value.lower()
        if value not in {"sandbox", "real"}:
            raise ConfigError(f"XERO_SYNC_XERO={value!r}: expected 'sandbox' or 'real'")
        return value

    @field_validator("dagster_ui_url", mode="after")
    @classmethod
    def _dagster_ui_url(cls, value: str) -> str:
        return parse_dagster_ui_url(value)

    @field_validator("public_url", mode="after")
    @classmethod
    def _public_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return parse_public_url(value, real=info.data.get("xero_mode") == "real")

    @field_validator("signin_secret", mode="after")
    @classmethod
    def _signin_secret(cls, value: str | None) -> str | None:
        if value and len(value) < MIN_SIGNIN_SECRET_LENGTH:
            raise ConfigError(f"{SIGNIN_SECRET_ENV} must be at least {MIN_SIGNIN_SECRET_LENGTH} characters")
        return value

    @field_validator("signin_jwks_url", mode="after")
    @classmethod
    def _signin_jwks_url(cls, value: str | None) -> str | None:
        if value:
            parts = urlsplit(value)
            local = parts.hostname in _LOCAL_HOSTS
            if parts.scheme != "https" and not (parts.scheme == "http" and local):
                raise ConfigError(f"{SIGNIN_JWKS_URL_ENV}={value!r} must be an https URL")
        return value

    # -- checks across variables --------------------------------------------------------------

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.xero_mode == "real":
            given = {"XERO_CLIENT_ID": self.client_id, "XERO_CLIENT_SECRET": self.client_secret}
            missing = [name for name, value in given.items() if not value]
            if missing:
                raise ConfigError(f"XERO_SYNC_XERO=real needs {', '.join(missing)} to be set")
            demo = [name for name, value, demo_value in (
                ("XERO_CLIENT_ID", self.client_id, DEMO_CLIENT_ID),
                ("XERO_CLIENT_SECRET", self.client_secret, DEMO_CLIENT_SECRET),
                ("XERO_WEBHOOK_KEY", self.webhook_key, DEMO_WEBHOOK_KEY)) if value == demo_value]
            if demo:
                raise ConfigError(f"XERO_SYNC_XERO=real refuses the sandbox's demo value of {', '.join(demo)}")
        else:  # the sandbox's demo app where ours is not given
            object.__setattr__(self, "client_id", self.client_id or DEMO_CLIENT_ID)
            object.__setattr__(self, "client_secret", self.client_secret or DEMO_CLIENT_SECRET)
            object.__setattr__(self, "webhook_key", self.webhook_key or DEMO_WEBHOOK_KEY)
        # Real mode never falls back to the (public) demo key: unset means every webhook is refused.
        object.__setattr__(self, "webhook_key", self.webhook_key or None)
        if self.signin_secret and self.signin_jwks_url:
            raise ConfigError(f"set either {SIGNIN_SECRET_ENV} (HS256) or {SIGNIN_JWKS_URL_ENV} (RS256), not both")
        if self.shard >= self.shard_count:
            raise ConfigError(f"XERO_SYNC_SHARD={self.shard} but XERO_SYNC_SHARDS={self.shard_count}: "
                              f"shards are numbered 0..{self.shard_count - 1}")
        return self

    # -- what the values mean -----------------------------------------------------------------

    @property
    def uses_sandbox(self) -> bool:
        return self.xero_mode == "sandbox"

    @property
    def xero(self) -> XeroEndpoints:
        return XeroEndpoints.for_base(self.sandbox_url) if self.uses_sandbox else XeroEndpoints(**REAL_XERO)

    @property
    def has_encryption_key(self) -> bool:
        """XERO_SYNC_ENCRYPTION_KEY is set (else the generated key file in `home`)."""
        return bool(self.encryption_key)

    @property
    def store_is_default(self) -> bool:
        """The embedded store in XERO_SYNC_HOME (which we may create), not a URL someone gave us."""
        return self.database_url == f"sqlite:///{self.home / 'xero_sync.db'}"

    def check_web(self) -> None:
        """Refuse to serve the web app in real mode with any demo default (ConfigError, one line)."""
        if self.uses_sandbox:
            return
        problems = []
        if not self.webhook_key or self.webhook_key == DEMO_WEBHOOK_KEY:
            problems.append("XERO_WEBHOOK_KEY (the webhook signing key of your Xero app)")
        if not self.web_secret:
            problems.append("XERO_SYNC_WEB_SECRET (a long random string that signs sessions)")
        if not self.public_url:
            problems.append(f"{PUBLIC_URL_ENV} (the https URL partners and Xero reach this app at)")
        if not self.has_encryption_key:
            problems.append("XERO_SYNC_ENCRYPTION_KEY (not the generated key file)")
        if problems:
            raise ConfigError("XERO_SYNC_XERO=real refuses demo defaults; set " + "; ".join(problems))


@functools.cache
def _variable_names() -> frozenset[str]:
    return frozenset(Settings.variables().values())


@functools.lru_cache(maxsize=64)
def _checked(cls: type[Settings], given: tuple[tuple[str, str], ...], cwd: str) -> Settings:
    """`cls` from the variables `given` (a frozen object: one per distinct environment is shared)."""
    token = _environment.set(dict(given))
    try:
        return cls()
    except ValidationError as invalid:
        raise _config_error(invalid) from None
    finally:
        _environment.reset(token)


def _config_error(invalid: ValidationError) -> ConfigError:
    """Our own message for the first problem (a check above), else one naming the variable."""
    first = invalid.errors()[0]
    raised = first.get("ctx", {}).get("error")
    if isinstance(raised, ConfigError):
        return raised
    variables = Settings.variables()
    name = variables.get(str(first["loc"][0]), str(first["loc"][0])) if first["loc"] else "a setting"
    return ConfigError(f"{name}: {first['msg']}")


def whole_number(name: str, raw: str, default: int | None, *, minimum: int = 1,
                 maximum: int | None = None) -> int | None:
    """A whole-number setting: `default` when empty, else within minimum..maximum (a ConfigError
    naming the variable otherwise)."""
    raw = raw.strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise ConfigError(f"{name}={value} must be between {minimum} and {maximum}")
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def parse_public_url(value: str | None, *, real: bool) -> str | None:
    """XERO_SYNC_PUBLIC_URL without a trailing slash; https in real mode (except on this machine)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{PUBLIC_URL_ENV}={value!r} is not a base URL (expected e.g. https://xero.example.com)")
    if real and parts.scheme != "https" and parts.hostname not in _LOCAL_HOSTS:
        raise ConfigError(f"{PUBLIC_URL_ENV}={value!r} must be https with XERO_SYNC_XERO=real")
    return value.strip().rstrip("/")


def parse_dagster_ui_url(value: str) -> str:
    """XERO_SYNC_DAGSTER_UI_URL without a trailing slash (a path prefix is kept, e.g. behind a
    proxy at https://ops.example.com/dagster), or "" when unset: links into the UI stay relative."""
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if "@" in parts.netloc:  # the links are shown in the UI: no credentials in them (nor in this error)
        raise ConfigError(f"{DAGSTER_UI_URL_ENV} must not carry a user or password")
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{DAGSTER_UI_URL_ENV}={value!r} is not a base URL "
                          "(expected e.g. https://dagster.example.com or http://127.0.0.1:3000)")
    return value.rstrip("/")


def dagster_ui_url(env: Mapping[str, str] | None = None) -> str:
    """The checked XERO_SYNC_DAGSTER_UI_URL of `env` (the process environment by default)."""
    return parse_dagster_ui_url((os.environ if env is None else env).get(DAGSTER_UI_URL_ENV, ""))
