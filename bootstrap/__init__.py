"""The composition root: builds everything one process needs from settings, once: the
application (persistence, per-case keys, the keyed BAMF index), the read models and the workers
that feed them, the access log, the organisations, the sessions and the token verifier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.access_log import AccessLog
from adapters.auth import ByIssuer, TokenVerifier, Verifier, demo_secret
from adapters.bamf_index_key import keyed_index_id
from adapters.claims import ClaimsMapping
from adapters.clock import Clock, SystemClock
from adapters.federation import receipts
from adapters.federation.signing import load_or_create_key
from adapters.federation.transfer import ensure_tables
from adapters.files import private_dir
from adapters.keystore import CaseKeys, MasterKey
from adapters.mailer import SmtpConfig, SmtpMailer
from adapters.oidc_client import StarletteOAuth2App, web_client
from adapters.orgs import Organisations
from adapters.provider_keys import ProviderKeys, ProviderTokenVerifier
from adapters.runtime import cache_protocol_members
from adapters.schema_lock import schema_lock
from adapters.sessions import WebSessions
from adapters.settings import Settings, library_env
from adapters.views.notification_settings import NotificationSettings
from adapters.views.queries import CaseQueries
from adapters.views.staff_directory import StaffDirectory
from adapters.views.store import ViewStoreMixin
from domain.application import StaffelApplication
from domain.policy import today_in_germany
from service_layer.federation import import_confirmation
from workers.handover_policy import PolicyWorker
from workers.mail_digest import Digests
from workers.mail_outbox import MailOutbox
from workers.outbox import Outbox
from workers.projections import build_view_store
from workers.supervisor import Supervisor


def master_key(settings: Settings) -> MasterKey:
    if settings.master_key is not None:
        return MasterKey.from_text(settings.master_key.get_secret_value())
    return MasterKey.load_or_create(settings.master_key_path)


def build_case_application(
    settings: Settings | None = None, today: Callable[[], date] = today_in_germany
) -> StaffelApplication:
    """The case application with employers, offers and volunteers (one store), sealing
    personal fields with per-case keys (ADR 0008), its BAMF index keyed (ADR 0010)."""
    settings = settings or Settings()
    cache_protocol_members()  # the library's isinstance checks of every event (ADR 0021)
    private_dir(settings.data_dir)  # keys, the SQLite store, bundles: this account's only
    master = master_key(settings)
    with schema_lock(settings):  # its tables: one process at a time (concurrent starts)
        app = StaffelApplication(
            env=library_env(settings), today=today, index_id=keyed_index_id(master)
        )
    app.keys = CaseKeys(app.recorder, master, app.mapper.transcoder)
    return app


class StartupError(RuntimeError):
    """A setting production needs is missing or wrong: the service does not start."""


@dataclass
class Services:
    settings: Settings
    cases: StaffelApplication  # the case application with employers, offers and volunteers
    supervisor: Supervisor  # the projections, and beside them the handover policy and outbox
    queries: CaseQueries
    access_log: AccessLog
    orgs: Organisations
    verifier: Verifier | None  # None in worker processes that serve no HTTP
    signing_key: Ed25519PrivateKey
    outbox: Outbox
    sessions: WebSessions  # the web interface's sessions, in the database (ADR 0009)
    directory: StaffDirectory  # actor id -> display name, organisation (ADR 0015)
    mail: MailOutbox  # e-mail notifications (ADR 0018)
    notification_settings: NotificationSettings  # each user's choice of them (ADR 0018)
    oidc: StarletteOAuth2App | None = None  # the web sign-in at the provider (ADR 0015)

    def close(self) -> None:
        self.supervisor.stop()
        self.cases.close()


def jwt_secret(settings: Settings) -> str | None:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return demo_secret(settings.data_dir) if settings.demo else None


def check_production(settings: Settings) -> None:
    missing = []
    if not settings.demo:
        if "database_url" not in settings.model_fields_set:
            missing.append("STAFFEL_DATABASE_URL")
        if settings.orgs_file is None:
            missing.append("STAFFEL_ORGS_FILE")
        keys = (settings.jwt_secret, settings.jwt_public_key_file, settings.oidc_issuer)
        if all(k is None for k in keys):
            missing.append(
                "STAFFEL_OIDC_ISSUER (or STAFFEL_JWT_SECRET or STAFFEL_JWT_PUBLIC_KEY_FILE)"
            )
        # the identity provider's own: a token minted for another service is refused
        needed = ("jwt_audience",) if settings.oidc_issuer else ("jwt_issuer", "jwt_audience")
        missing += [
            f"STAFFEL_{name.upper()}" for name in needed if name not in settings.model_fields_set
        ]
        if settings.oidc_client_id and settings.oidc_client_secret is None:
            missing.append("STAFFEL_OIDC_CLIENT_SECRET")
        if settings.master_key is None and settings.master_key_file is None:
            missing.append("STAFFEL_MASTER_KEY or STAFFEL_MASTER_KEY_FILE")
        if settings.smtp_host:  # mails must link to the service and come from a real address
            missing += [
                f"STAFFEL_{name.upper()} (with STAFFEL_SMTP_HOST)"
                for name in ("public_url", "mail_from")
                if name not in settings.model_fields_set
            ]
    if missing:
        raise StartupError(
            "missing production settings: "
            + ", ".join(missing)
            + " (or run the demo: staffel serve --demo)"
        )
    if settings.orgs_file is not None and not Path(settings.orgs_file).is_file():
        raise StartupError(f"STAFFEL_ORGS_FILE {settings.orgs_file} does not exist")


def claims_mapping(settings: Settings) -> ClaimsMapping:
    return ClaimsMapping(
        org=settings.oidc_org_claim,
        roles=settings.oidc_roles_claim,
        name=settings.oidc_name_claim,
        email=settings.oidc_email_claim,
    )


def token_verifier(settings: Settings, public_key: str | None) -> Verifier | None:
    """The provider's tokens by its published keys (``STAFFEL_OIDC_ISSUER``); beside them, or
    alone, tokens of the shared secret or the public-key file (development, demo, tests)."""
    local = local_verifier(settings, public_key)
    if not settings.oidc_issuer:
        return local
    keys = ProviderKeys(
        settings.oidc_issuer,
        cache_seconds=settings.oidc_jwks_cache_seconds,
        refetch_seconds=settings.oidc_jwks_refetch_seconds,
    )
    provider = ProviderTokenVerifier(
        keys,
        audience=settings.jwt_audience,
        max_lifetime=settings.jwt_max_lifetime_seconds,
        mapping=claims_mapping(settings),
    )
    return ByIssuer(provider, local)


def local_verifier(settings: Settings, public_key: str | None) -> TokenVerifier | None:
    secret = jwt_secret(settings)
    if not (secret or public_key):
        return None
    try:
        return TokenVerifier(
            secret=secret,
            public_key=public_key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            max_lifetime=settings.jwt_max_lifetime_seconds,
            mapping=claims_mapping(settings),
        )
    except ValueError as e:  # not a PEM public key, or one of a type tokens cannot use
        raise StartupError(f"STAFFEL_JWT_PUBLIC_KEY_FILE: {e}") from e


def mail_outbox(
    settings: Settings, cases: StaffelApplication, store: ViewStoreMixin, orgs: Organisations,
    clock: Clock, directory: StaffDirectory,
) -> MailOutbox:  # fmt: skip
    """The e-mail outbox; it writes and sends nothing while ``STAFFEL_SMTP_HOST`` is unset."""
    mailer = None
    if settings.smtp_host:
        password = settings.smtp_password
        mailer = SmtpMailer(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password.get_secret_value() if password else None,
                cafile=str(settings.smtp_cafile) if settings.smtp_cafile else None,
            )
        )
    base_url = settings.public_url or "http://localhost:8000"
    digests = Digests(store, clock, directory, hour=settings.digest_hour, base_url=base_url)
    return MailOutbox(
        cases, store, orgs, clock, mailer, sender=settings.mail_from, base_url=base_url,
        retry_seconds=settings.mail_retry_seconds, claim_seconds=SmtpConfig.timeout + 5,
        digests=digests,
    )  # fmt: skip


def build_services(
    settings: Settings,
    *,
    start_projections: bool | None = None,
    today: Callable[[], date] | None = None,
    clock: Clock | None = None,
) -> Services:
    """Build a process's services; ``staffel serve`` checks production settings first
    (``check_production``), workers such as ``staffel project`` need only the store.

    ``start_projections``: start the workers (projections, handover policy, outbox) in this
    process; default ``settings.workers`` (``STAFFEL_WORKERS``). With workers off the process
    serves HTTP only and a ``staffel project`` elsewhere keeps the read models current; with
    them on it leads or stands by (ADR 0004). ``clock``: what the mail outbox reads."""
    clock = clock or SystemClock()
    today = today or today_in_germany
    orgs = Organisations.load(settings.orgs_file)
    public_key = (
        Path(settings.jwt_public_key_file).read_text("utf-8")
        if settings.jwt_public_key_file
        else None
    )
    verifier = token_verifier(settings, public_key)
    with schema_lock(settings):  # every table of the store: one process at a time
        cases = build_case_application(settings, today=today)
        store = build_view_store(cases)
        policy = PolicyWorker(
            cases,
            store,
            orgs.jobcenter_for,
            lambda org_id: bool((o := orgs.get(org_id)) and o.is_jobcenter),
        )
        signing_key = load_or_create_key(settings.signing_key_path)
        ensure_tables(store)
        receipts.ensure_tables(store)
        outbox = Outbox(cases, store, orgs, signing_key)
        directory = StaffDirectory(store, keep_days=settings.staff_directory_keep_days)
        mail = mail_outbox(settings, cases, store, orgs, clock, directory)
        supervisor = Supervisor(
            cases,
            store=store,
            processes=[policy, outbox, mail],
            gather=settings.projection_gather_seconds,
        )
        access_log, sessions = AccessLog(store), WebSessions(store)
        notification_settings = NotificationSettings(store)
    if start_projections is None:
        start_projections = settings.workers
        supervisor.enabled = settings.workers
    if start_projections:
        supervisor.start()
    services = Services(
        settings=settings,
        cases=cases,
        supervisor=supervisor,
        queries=CaseQueries(supervisor.store),
        access_log=access_log,
        orgs=orgs,
        verifier=verifier,
        signing_key=signing_key,
        outbox=outbox,
        sessions=sessions,
        directory=directory,
        oidc=web_client(settings),
        mail=mail,
        notification_settings=notification_settings,
    )
    outbox.on_receipt_answer = lambda body: import_confirmation(services, body)
    return services
