"""The registry file's schema: what each section of the YAML may hold, checked field by field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from groups.models import Role

DEFAULT_ROUTE = "default"
ROLE_NAMES: dict[str, Role] = {
    "居民": Role.RESIDENT,
    "社工": Role.SOCIAL_WORKER,
    "网格员": Role.GRID_WORKER,
    "领导": Role.LEADER,
    "管理员": Role.ADMIN,
    **{role.value: role for role in Role},
}
Path_ = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RouteSpec(_Strict):
    role: str | None = None
    department: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLE_NAMES:
            raise ValueError(f"不认识的角色“{value}”，可用：{'、'.join(list(ROLE_NAMES)[:5])}")
        return value

    def model_post_init(self, _context: Any) -> None:
        if (self.role is None) == (self.department is None):
            raise ValueError("每条分派规则要写 role 或 department 之一")


class GroupSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    grid: str | None = None
    account: str | None = None
    rules: str | None = None  # the group's rules, quoted in the welcome (default: the district's)


class AccountSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = ""


class GridSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class CommunitySpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    grids: list[GridSpec] = []
    groups: list[GroupSpec] = []
    routing: dict[str, RouteSpec] = {}


class StreetSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    communities: list[CommunitySpec] = []


class DepartmentSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    street: str | None = None
    contact: str | None = None


class PersonSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    role: str
    community: str | None = None
    street: str | None = None  # a street's staff (a 街道 leader or social worker) work for the whole street
    grid: str | None = None
    household: str | None = None
    groups: list[str] = []
    exempt: bool = False  # may post links and notices without moderation (a property company's account)

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLE_NAMES:
            raise ValueError(f"不认识的角色“{value}”，可用：{'、'.join(list(ROLE_NAMES)[:5])}")
        return value

    @field_validator("household", mode="before")
    @classmethod
    def _household_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class DistrictSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class RegistrySpec(_Strict):
    district: DistrictSpec
    accounts: list[AccountSpec] = []
    routing: dict[str, RouteSpec] = {}
    departments: list[DepartmentSpec] = []
    streets: list[StreetSpec] = Field(min_length=1)
    people: list[PersonSpec] = []
