"""API keys of the external systems allowed to call the Open311 API: shown once, stored as sha256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlmodel import Session, select

from web.models import ApiClient
from xiaoqi.audit import record
from xiaoqi.errors import XiaoqiError

MAX_NAME = 100


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def create_api_client(session: Session, name: str, now: datetime, actor_id: str = "cli") -> str:
    """A new key for an external system, shown this once; a revoked client's name gets a fresh key."""
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
    session.add(client)
    record(session, at=now, actor_id=actor_id, action="创建接口密钥", target=f"api_client:{name}")
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
