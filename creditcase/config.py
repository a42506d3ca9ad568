"""Settings read from ``CREDITCASE_*`` environment variables.

Nothing here is read at import time: :func:`Settings.from_env` is called by the
CLI and by ``create_app``. With no variables set the defaults are the embedded
mode: SecantusDB started in-process under ``CREDITCASE_DATA_DIR`` and kombu's
``memory://`` broker with the worker and relay as threads.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field names match the variables without the prefix."""

    #: MongoDB URI; ``None`` starts the embedded SecantusDB server.
    mongodb_uri: str | None = None
    #: Database name inside the server.
    mongodb_db: str = "creditcase"
    #: Where embedded data (database files, keys) live.
    data_dir: Path = field(default_factory=lambda: Path("var"))
    #: AMQP URL; ``None`` means kombu ``memory://`` with in-process worker and relay.
    amqp_url: str | None = None
    #: Declare quorum queues (for RabbitMQ clusters) instead of classic durable queues.
    quorum_queues: bool = False
    #: Flask secret key for sessions and CSRF; generated per data dir when unset.
    secret_key: str | None = None
    #: Plugins (by entry-point or registered name) that must not be loaded.
    disabled_plugins: tuple[str, ...] = ()
    #: Address ``creditcase serve`` listens on.
    host: str = "127.0.0.1"
    port: int = 5000
    #: Public endpoints: requests per minute per client address.
    public_rate_limit: str = "60 per minute"

    @property
    def embedded_database(self) -> bool:
        return not self.mongodb_uri

    @property
    def embedded_broker(self) -> bool:
        return not self.amqp_url

    @property
    def broker_url(self) -> str:
        return self.amqp_url or "memory://"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"CREDITCASE_{name}")
            return value if value not in (None, "") else None

        settings = cls(
            mongodb_uri=get("MONGODB_URI"),
            mongodb_db=get("MONGODB_DB") or "creditcase",
            data_dir=Path(get("DATA_DIR") or "var"),
            amqp_url=get("AMQP_URL"),
            quorum_queues=_bool(get("QUORUM_QUEUES")),
            secret_key=get("SECRET_KEY"),
            disabled_plugins=_list(get("DISABLED_PLUGINS")),
            host=get("HOST") or "127.0.0.1",
            port=int(get("PORT") or 5000),
            public_rate_limit=get("PUBLIC_RATE_LIMIT") or "60 per minute",
        )
        return replace(settings, **overrides) if overrides else settings

    def resolved_secret_key(self) -> str:
        """The configured secret key, or one kept in the data dir (created once)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
