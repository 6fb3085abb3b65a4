"""One ``Settings`` class for the whole service, and its translation into the library's environment.

Read from ``STAFFEL_*`` environment variables (ADR 0002). The library's own variable names never
leak into the rest of the code.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.database import DB_TIMEOUT_KEY, GROUP_COMMIT_KEY, GROUP_COMMIT_WINDOW_KEY
from adapters.files import private_sqlite_file

DEFAULT_DATABASE_URL = "sqlite:///var/staffel.db"
# what tokens name as their issuer and audience in the demo and in tests (ADR 0005); production
# sets its identity provider's own (``check_production``)
DEFAULT_JWT_ISSUER = "staffel-demo"
DEFAULT_JWT_AUDIENCE = "staffel"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STAFFEL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    lock_timeout_seconds: int = Field(default=5, ge=1)
    # the longest a request waits for an unreachable database before it answers 503: bounds
    # connecting, each statement, waiting for a pooled connection, SQLite's busy wait (ADR 0002)
    db_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # base64 AES key (16, 24 or 32 bytes): encrypts every stored event and snapshot at rest
    cipher_key: SecretStr | None = None
    compress: bool = False
    snapshot_interval: int = Field(default=50, ge=0)
    aggregate_cache_size: int = Field(default=1000, ge=0)
    handover_working_days: int = Field(default=5, ge=1)
    postgres_pool_size: int = Field(default=10, ge=1)
    # PostgreSQL: concurrent commands of a process share one transaction (ADR 0012); the
    # longest a batch waits for more commands, in milliseconds (only while they keep arriving)
    group_commit: bool = True
    group_commit_window_ms: float = Field(default=1.0, ge=0, le=20)
    # the HTTP service
    data_dir: Path = Path("var")
    demo: bool = False
    seed: bool = True  # in demo mode, load the demo data set into an empty store
    orgs_file: Path | None = None
    jwt_secret: SecretStr | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = Field(default=DEFAULT_JWT_ISSUER, min_length=1)
    jwt_audience: str = Field(default=DEFAULT_JWT_AUDIENCE, min_length=1)
    jwt_max_lifetime_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 24 * 3600)
    # the longest bearer token (Authorization header, pasted token) and session cookie accepted
    jwt_max_bytes: int = Field(default=8192, ge=1024, le=65536)
    # OpenID Connect (ADR 0015): the provider's issuer URL (its discovery document), the web
    # interface's client, and where tokens carry organisation, roles and name (dotted paths)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile email"
    oidc_org_claim: str = Field(default="org", min_length=1)
    oidc_roles_claim: str = Field(default="roles", min_length=1)
    oidc_name_claim: str = Field(default="name", min_length=1)
    # the work e-mail address (for the daily digest of follow-ups, ADR 0018); may be absent
    oidc_email_claim: str = Field(default="email", min_length=1)
    # the provider's keys: kept this long; an unknown key id refetches them at most this often
    oidc_jwks_cache_seconds: int = Field(default=300, ge=0, le=86400)
    oidc_jwks_refetch_seconds: float = Field(default=30, ge=0, le=3600)
    # the public address the browser reaches Staffel by: the redirect URL is
    # the address browsers reach Staffel by: the sign-in's {public_url}/ui/auth/callback (unset:
    # the address of the request) and the links in e-mails (unset: http://localhost:8000)
    public_url: str | None = None
    # the staff directory (names of actors): an entry not confirmed by a sign-in or an API call
    # for this many days is deleted (docs/data-protection.md)
    staff_directory_keep_days: int = Field(default=400, ge=1, le=3650)
    log_format: Literal["auto", "json", "console"] = "auto"
    # run the projections, the handover policy and the outbox in this process (leading or
    # standing by, ADR 0004); false: HTTP only, with ``staffel project`` running them elsewhere
    workers: bool = True
    # HTTP worker processes of ``staffel serve`` (ADR 0013); unset: one per core
    http_workers: int | None = Field(default=None, ge=1, le=64)
    read_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    # under a steady stream of writes (rounds of 8 events or more), the projections' rounds
    # start this many seconds apart, so each round's fixed work is shared by more events; a
    # reader waiting for its own write in the leading process cuts the wait short (ADR 0004)
    projection_gather_seconds: float = Field(default=0.5, ge=0, le=5)
    # the most a peer may send to /handovers/inbox or /handovers/receipts, in bytes (413 above)
    max_peer_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # /docs, /redoc and /openapi.json: served when true; unset: in the demo only
    public_docs: bool | None = None
    # when set, /metrics answers only to ``Authorization: Bearer <metrics_token>``
    metrics_token: SecretStr | None = None
    # this deployment's Ed25519 key for handover bundles and receipts (default: in data_dir)
    signing_key_file: Path | None = None
    # the master key that wraps each case's data key (ADR 0008): base64 of 32 bytes, given
    # directly or in a file (default: data_dir/master.key, created in the demo and in tests)
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    # retention after a case is closed, in years, per legal basis (docs/data-protection.md)
    retention_years_sgb_ii: int = Field(default=10, ge=1, le=30)
    retention_years_sgb_iii: int = Field(default=5, ge=1, le=30)
    retention_years_asylblg: int = Field(default=5, ge=1, le=30)
    # e-mail notifications (ADR 0018): none are written while smtp_host is unset
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # the CA file STARTTLS trusts instead of the system's (a private relay's own CA)
    smtp_cafile: Path | None = None
    mail_from: str = "staffel@localhost"
    # the first retry's delay after a failed send; doubled each attempt up to an hour
    mail_retry_seconds: float = Field(default=30.0, gt=0, le=3600)
    # the local hour (Europe/Berlin) from which the daily digest of due follow-ups is sent to
    # the users who chose it (ADR 0018)
    digest_hour: int = Field(default=7, ge=0, le=23)

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing-key.pem"

    @property
    def master_key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def http_worker_count(self) -> int:
        if self.http_workers is not None:
            return self.http_workers
        try:
            return len(os.sched_getaffinity(0))  # the cores this process may run on
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    @property
    def docs_are_public(self) -> bool:
        return self.demo if self.public_docs is None else self.public_docs

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        return url

    @property
    def oidc_web(self) -> bool:
        """The web interface signs in through the provider (issuer and client set)."""
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))


def library_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's environment for ``settings``."""
    env: dict[str, str] = {
        "CASE_SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
        "HANDOVER_WORKING_DAYS": str(settings.handover_working_days),
    }
    if settings.snapshot_interval:
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
    if settings.aggregate_cache_size:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
        env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    if settings.cipher_key is not None:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key.get_secret_value()
    if settings.compress:
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    env.update(_postgres_env(settings) if settings.is_postgres else _sqlite_env(settings))
    return env


def _sqlite_env(settings: Settings) -> dict[str, str]:
    path = private_sqlite_file(Path(settings.database_url.removeprefix("sqlite:///")))
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "adapters.recorders:SQLiteStaffelRecorder",
        "SQLITE_DBNAME": str(path),
        # whole seconds, at least one: the library's setting is an integer
        "SQLITE_LOCK_TIMEOUT": str(_bounded_lock_timeout(settings)),
    }


def _bounded_lock_timeout(settings: Settings) -> int:
    """The lock (SQLite: busy) timeout, never longer than the database timeout."""
    return max(1, min(settings.lock_timeout_seconds, math.ceil(settings.db_timeout_seconds)))


def _postgres_env(settings: Settings) -> dict[str, str]:
    url = urlsplit(settings.database_url)
    return {
        # the library's factory with its pool bounded by db_timeout_seconds (adapters/database.py)
        "PERSISTENCE_MODULE": "adapters.database:BoundedPostgresFactory",
        DB_TIMEOUT_KEY: str(settings.db_timeout_seconds),
        "APPLICATION_RECORDER_TOPIC": "adapters.recorders:PostgresStaffelRecorder",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "staffel",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_LOCK_TIMEOUT": str(_bounded_lock_timeout(settings)),
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        # no pre-ping round trip on every checkout: ``adapters.database.check_when_told``
        GROUP_COMMIT_KEY: "y" if settings.group_commit else "n",
        GROUP_COMMIT_WINDOW_KEY: str(settings.group_commit_window_ms),
        # POSTGRES_ENABLE_DB_FUNCTIONS stays off: with it a tailing reader can miss events.
    }
