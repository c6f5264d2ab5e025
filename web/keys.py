"""API keys of the external systems allowed to call the Open311 API (shown once, stored as sha256), and
the server secret that keys the ids of their callers."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from core.audit import record
from core.errors import XiaoqiError
from core.settings import Settings
from web.models import ApiClient

MAX_NAME = 100
SECRET_FILE = "open311-secret"
log = logging.getLogger(__name__)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def create_api_client(
    session: Session, name: str, now: datetime, actor_id: str = "cli", *, read_all: bool = False
) -> str:
    """A new key for an external system, shown this once; a revoked client's name gets a fresh key.
    `read_all` (the district's 12345 hub) reads every ticket; others read only those they filed."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise XiaoqiError("接口用户名称不能为空，最多100个字。")
    key = "xq_" + secrets.token_urlsafe(32)
    client = session.exec(select(ApiClient).where(ApiClient.name == name)).first()
    if client is not None and client.revoked_at is None:
        raise XiaoqiError(f"接口用户“{name}”已有有效密钥，请先停用再重新创建。")
    if client is None:
        client = ApiClient(name=name, key_hash=_hash(key), created_at=now)
    else:
        client.key_hash, client.created_at, client.revoked_at = _hash(key), now, None
    client.read_all = read_all
    session.add(client)
    scope = "读取全部工单" if read_all else "只读本系统提交的工单"
    record(
        session, at=now, actor_id=actor_id, action="创建接口密钥", target=f"api_client:{name}", detail=scope
    )
    return key


def revoke_api_client(session: Session, name: str, now: datetime, actor_id: str = "cli") -> bool:
    client = session.exec(select(ApiClient).where(ApiClient.name == name.strip())).first()
    if client is None or client.revoked_at is not None:
        return False
    client.revoked_at = now
    session.add(client)
    record(session, at=now, actor_id=actor_id, action="停用接口密钥", target=f"api_client:{client.name}")
    return True


def api_client_for(session: Session, key: str) -> ApiClient | None:
    """The unrevoked client holding this key: looked up by the key's hash, compared in constant time."""
    if not key or len(key) > 200:
        return None
    digest = _hash(key)
    client = session.exec(select(ApiClient).where(ApiClient.key_hash == digest)).first()
    if client is None or not hmac.compare_digest(client.key_hash, digest) or client.revoked_at is not None:
        return None
    return client


def caller_secret(settings: Settings) -> bytes:
    """The key of Open311 caller ids: XIAOQI_OPEN311_SECRET, or a random one made on first use and kept
    in <cache_dir>/open311-secret (mode 0600), so that a caller keeps their id across restarts."""
    if settings.open311_secret:
        return settings.open311_secret.encode()
    path = settings.cache_dir / SECRET_FILE
    if not path.exists():
        _make_secret(path)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: made private (mode 0600)", path)
        path.chmod(0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise XiaoqiError(f"{path} 内容无效：请删除它（来电人编号会重新生成）或设置 XIAOQI_OPEN311_SECRET。")
    return secret.encode()


def _make_secret(path: Path) -> None:
    """Written whole to a private file, then linked into place: a process starting at the same moment
    either wins the link or reads the winner's secret, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()


def caller_id(secret: bytes, contact: str) -> str:
    """A caller's id from their phone, email or account: keyed, so a copy of the database does not
    give the phone numbers back by hashing all 10^10 of them."""
    return hmac.new(secret, contact.encode(), hashlib.sha256).hexdigest()[:16]
