"""The Open311 API's one router: services, reading and filing, and a GeoReport answer for anything else."""

from __future__ import annotations

from fastapi import APIRouter, Response

from web.open311 import filing, reading, services
from web.open311.protocol import GeoReportRoute, Open311Error

router = APIRouter(route_class=GeoReportRoute, tags=["Open311 GeoReport v2"])
router.include_router(services.router)
router.include_router(reading.router)
router.include_router(filing.router)


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def elsewhere(rest: str) -> Response:
    last = rest.rsplit("/", 1)[-1]
    if "." in last and not last.endswith(".json"):
        raise Open311Error(400, "只支持 JSON 格式（.json）")
    raise Open311Error(404, "没有这个接口")
