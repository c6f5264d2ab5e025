"""Runtime configuration, read once from the environment and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BOT_ID = "xiaoqi"
BOT_NAME = "小棲"


def normalize_database_url(url: str) -> str:
    """Make plain PostgreSQL URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        settings = cls(
            database_url=normalize_database_url(env.get("XIAOQI_DATABASE_URL", cls.database_url)),
            data_dir=Path(env.get("XIAOQI_DATA_DIR", str(REPO_ROOT / "data"))),
            cache_dir=Path(env.get("XIAOQI_CACHE_DIR", str(Path.home() / ".cache" / "xiaoqi"))),
            nlp_model_dir=Path(env["XIAOQI_NLP_MODEL_DIR"]) if env.get("XIAOQI_NLP_MODEL_DIR") else None,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        if "database_url" in clean:
            clean["database_url"] = normalize_database_url(str(clean["database_url"]))
        return replace(settings, **clean)  # type: ignore[arg-type]
