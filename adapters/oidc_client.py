"""The web interface's OpenID Connect client (ADR 0015): Authlib's Starlette client for the
authorization code flow with PKCE (S256), configured from the provider's discovery document.

Authlib keeps the state, the nonce and the PKCE verifier of a sign-in under way in
``request.session``; Staffel gives it a plain dict that lives in the database between the
redirect to the provider and the callback (``WebSessions.hold`` / ``take``), so no signed-cookie
session and no secret beside the client's are needed."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import urlencode

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # Authlib 1.9 asks for the httpx2 fork at import; Staffel stays on httpx (whose errors the
    # sign-in pages catch by type) and a served process logs JSON lines only (ADR 0013)
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App

from adapters.settings import Settings

__all__ = ["OAuthError", "StarletteOAuth2App", "logout_url", "web_client"]


def web_client(settings: Settings) -> StarletteOAuth2App | None:
    """The provider's client for the web sign-in; None without ``STAFFEL_OIDC_ISSUER`` and
    ``STAFFEL_OIDC_CLIENT_ID`` (the token form, or the demo's user picker)."""
    if not settings.oidc_web or settings.oidc_issuer is None:
        return None
    secret = settings.oidc_client_secret
    oauth = OAuth()
    client: StarletteOAuth2App = oauth.register(
        "provider",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return client


async def logout_url(client: StarletteOAuth2App, id_token: str | None, after: str) -> str | None:
    """The provider's logout (RP-initiated logout) for a session that ended, returning to
    ``after``; None when the provider offers no ``end_session_endpoint``."""
    metadata: dict[str, Any] = await client.load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = {"post_logout_redirect_uri": after, "client_id": client.client_id}
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
