"""The services a 12345 platform may file under: our categories with GeoReport codes (public, no key)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from nlp.labels import CATEGORIES
from web.open311.protocol import GeoReportRoute, JSONResponse, Open311Error

# code, name (our category, verbatim), description, keywords, group
_SERVICES: tuple[tuple[str, str, str, str, str], ...] = (
    ("property", "物业管理", "电梯、门禁、物业服务、公共维修", "电梯,门禁,物业,维修", "社区服务"),
    ("sanitation", "环境卫生", "垃圾清运、卫生死角、绿化、油烟异味", "垃圾,卫生,绿化,异味", "城市管理"),
    ("municipal", "市政设施", "路灯、道路、井盖、供水排水", "路灯,道路,井盖,水管", "城市管理"),
    ("safety", "治安消防", "消防通道、安全隐患、治安问题", "消防,安全,治安", "平安建设"),
    ("traffic", "交通停车", "停车秩序、非机动车、交通设施", "停车,电动车,交通", "城市管理"),
    ("noise", "噪音扰民", "施工、商铺和生活噪音", "噪音,施工,扰民", "城市管理"),
    ("encroachment", "违建占道", "违章搭建、占道经营、乱堆物", "违建,占道,堆物", "城市管理"),
    ("elderly", "养老助残", "老年人、残疾人的帮扶与服务", "养老,助残,老人", "社区服务"),
    ("government", "政务服务", "开具证明、社保医保、办事咨询", "证明,社保,办事", "社区服务"),
    ("neighbours", "邻里纠纷", "邻里矛盾的调解", "纠纷,邻里,调解", "平安建设"),
    ("other", "其他", "其他社区事务", "其他", "社区服务"),
)
CATEGORY_OF = {code: name for code, name, *_ in _SERVICES}
CODE_OF = {name: code for code, name in CATEGORY_OF.items()}
assert set(CODE_OF) == set(CATEGORIES), "every category needs a service code"
_FIELDS = ("service_code", "service_name", "description", "keywords", "group")
_LIST = [{**dict(zip(_FIELDS, s, strict=True)), "metadata": False, "type": "realtime"} for s in _SERVICES]
router = APIRouter(route_class=GeoReportRoute)


# the services are public, as GeoReport has them: a client asks for them before it has a key
@router.get("/services.json", summary="服务类型列表（无需密钥）")
def services() -> Response:
    return JSONResponse(_LIST)


@router.get("/services/{service_code}.json", summary="服务类型定义（无需密钥）")
def service(service_code: str) -> Response:
    if service_code not in CATEGORY_OF:
        raise Open311Error(404, "没有这个 service_code")
    return JSONResponse({"service_code": service_code, "attributes": []})
