"""What a refused staff member reads: the thing named as they would name it, and why not."""

from __future__ import annotations

from consult.models import Consultation
from faq.models import FaqQuestion
from groups.models import ChatGroup, Person
from moderation.models import ModerationCase
from notices.models import Notice
from tickets.models import Ticket


def name_of(thing: object) -> str:
    """12号工单, 3号议事, 新家园社区 …"""
    if isinstance(thing, Ticket):
        return f"{thing.id}号工单"
    if isinstance(thing, Consultation):
        return f"{thing.id}号议事"
    if isinstance(thing, Notice):
        return f"{thing.id}号通知" if thing.id else "这个范围的通知"
    if isinstance(thing, ModerationCase):
        return f"{thing.id}号提醒"
    if isinstance(thing, FaqQuestion):
        return f"{thing.id}号居民提问"
    if isinstance(thing, Person):
        return thing.name or "这位居民"
    if isinstance(thing, ChatGroup):
        return thing.name or "这个群"
    if isinstance(thing, tuple) and len(thing) >= 3 and thing[2]:
        return str(thing[2])  # a scope: 新家园社区, 马群街道, 全区
    return "这里"


OUTSIDE = "{what}不在您负责的范围内，不能{doing}。"
NOT_YOURS = {  # by access.policy.Verb's value
    "see": "{what}只有工作人员能看。",
    "see_details": "{what}只有工作人员能看。",
    "organise": "议事要由本社区的社工{doing}。",
    "moderate": "广告提醒要由本社区的社工{doing}。",
    "learn": "入库要由本社区的社工办理。",
}
