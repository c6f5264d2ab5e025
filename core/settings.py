"""Runtime configuration, read once from the environment and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.quiet import QuietHours

REPO_ROOT = Path(__file__).resolve().parents[1]
BOT_ID = "xiaoqi"
BOT_NAME = "小棲"
DEFAULT_ACCOUNT = "xiaoqi"


def normalize_database_url(url: str) -> str:
    """Make plain PostgreSQL URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class SendLimits:
    """How fast one bot account may send: WeChat flags accounts that post in bursts."""

    per_minute: int = 20  # per account, in any 60 s
    per_group_per_minute: int = 5  # per group, in any 60 s
    burst: int = 5  # per account, in any `burst_seconds`
    burst_seconds: float = 10.0
    bulk_share: float = 0.75  # notices and broadcasts use at most this share, so answers never wait long
    claim_seconds: float = 120.0  # a send in flight this long without an answer is tried again
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if min(self.per_minute, self.per_group_per_minute, self.burst, self.max_attempts) < 1:
            raise ValueError("send limits must be at least 1")


@dataclass(frozen=True)
class Settings:
    """Everything the application needs to know about its environment."""

    database_url: str = "sqlite:///xiaoqi.db"
    data_dir: Path = REPO_ROOT / "data"
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "xiaoqi")
    nlp_model_dir: Path | None = None
    bot_id: str = BOT_ID
    bot_name: str = BOT_NAME
    timezone: str = "Asia/Shanghai"
    files_dir: Path | None = None  # charts and reports sent as files (default: <cache_dir>/files)
    account: str = DEFAULT_ACCOUNT  # the bot account this process speaks for (several may share a database)
    send_limits: SendLimits = SendLimits()
    # nothing but emergencies and direct answers leaves in these hours (None: no quiet hours)
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    # leaders read a ticket's summary; its raw words (names, phone numbers) only where the district says so
    leaders_see_details: bool = False
    # keys the Open311 caller ids (HMAC); None: one made once and kept in <cache_dir>/open311-secret
    open311_secret: str | None = field(default=None, repr=False)

    @property
    def spool_path(self) -> Path:
        """Where this account keeps messages that arrive while the database is unreachable."""
        return self.cache_dir / "spool" / f"{self.account}.jsonl"

    @property
    def files_path(self) -> Path:
        return self.files_dir or self.cache_dir / "files"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        settings = cls(
            database_url=normalize_database_url(env.get("XIAOQI_DATABASE_URL", cls.database_url)),
            data_dir=Path(env.get("XIAOQI_DATA_DIR", str(REPO_ROOT / "data"))),
            cache_dir=Path(env.get("XIAOQI_CACHE_DIR", str(Path.home() / ".cache" / "xiaoqi"))),
            nlp_model_dir=Path(env["XIAOQI_NLP_MODEL_DIR"]) if env.get("XIAOQI_NLP_MODEL_DIR") else None,
            files_dir=Path(env["XIAOQI_FILES_DIR"]) if env.get("XIAOQI_FILES_DIR") else None,
            account=env.get("XIAOQI_ACCOUNT", DEFAULT_ACCOUNT),
            send_limits=SendLimits(
                per_minute=_int_env("XIAOQI_SEND_PER_MINUTE", SendLimits.per_minute),
                per_group_per_minute=_int_env(
                    "XIAOQI_SEND_PER_GROUP_PER_MINUTE", SendLimits.per_group_per_minute
                ),
                burst=_int_env("XIAOQI_SEND_BURST", SendLimits.burst),
            ),
            quiet_hours=QuietHours.parse(env["XIAOQI_QUIET_HOURS"])
            if "XIAOQI_QUIET_HOURS" in env
            else QuietHours(),
            leaders_see_details=env.get("XIAOQI_LEADERS_SEE_DETAILS", "").strip().lower()
            in ("1", "true", "yes"),
            open311_secret=env.get("XIAOQI_OPEN311_SECRET", "").strip() or None,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        if "database_url" in clean:
            clean["database_url"] = normalize_database_url(str(clean["database_url"]))
        return replace(settings, **clean)  # type: ignore[arg-type]


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
