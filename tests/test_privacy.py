"""What is hidden in stored and published text: phone, ID-card, passport and bank-card numbers however they
are written, and, in the monthly report, people's names; dates, prices, flats and ordinary words stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.app import App
from core.clock import SHANGHAI
from core.db import session_scope
from core.privacy import mask_private_numbers
from groups.models import Person, Role
from nlp.segment import Segmenter
from reports.casework import ConsultSection, typical_cases
from reports.names import NameMask
from reports.period import Month, Scope
from tickets.models import Rating, Ticket, TicketReporter, TicketState

MASKED = [
    # landlines with a space or dash inside, brackets, or the area code run on
    ("座机025-8456 7890", "座机025-**** 7890"),
    ("(025)84567890", "(025)****7890"),
    ("电话（025）8456-7890", "电话（025）****-7890"),
    ("02584567890", "025****7890"),
    ("0512-6789 1234", "0512-**** 1234"),
    # a local number alone is a phone number only after 电话, 座机 …
    ("座机84567890", "座机****7890"),
    ("家里电话是 8456-7890，白天有人", "家里电话是 ****-7890，白天有人"),
    ("有事拨打8456 7890", "有事拨打**** 7890"),
    # Chinese digits, 幺 for 1, 〇/零 for 0, mixed with Arabic ones
    ("我电话一三九一二三四五六七八", "我电话一三九****五六七八"),
    ("139一二三4五六七八", "139****五六七八"),
    ("幺三九 幺二三四 五六七八", "幺三九 **** 五六七八"),
    ("座机零二五八四五六七八九〇", "座机零二五****七八九〇"),
    # passports and permits
    ("护照号E12345678", "护照号E*****678"),
    ("G12345678", "G*****678"),
    ("护照号：EA1234567", "护照号：EA****567"),
    ("护照 123456789 丢了", "护照 ******789 丢了"),
    # bank cards: 16 to 19 digits, possibly in groups of four
    ("卡号6222 0212 3456 7890", "卡号6222 **** **** 7890"),
    ("退款到6222021234567890123", "退款到6222***********0123"),
    ("6217-0012-3456-7890", "6217-****-****-7890"),
    # mobiles and ID cards, with separators too
    ("身份证320113 19880506 1234", "身份证3201** ******** 1234"),
]

KEPT = [
    "2026年12月7日",
    "20261207",
    "活动20261207开始",
    "打扫了楼道，20261207前完成",
    "1500元",
    "1500-2000元一个月",
    "3栋2单元501",
    "12号楼",
    "18:30开会",
    "买了200个口罩",
    "邮编210046",
    "2025年",
    "2025-2026学年",
    "二〇二六年十二月七日",
    "一栋二单元五〇一",
    "一二三四五六七八九十",
    "G1234次列车",
    "E1234567",
    "护照丢了，20261207去补办",
    "打了3次电话",
    "订单 20261207 1530",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_private_numbers_are_masked_however_written(text: str, masked: str) -> None:
    assert mask_private_numbers(text) == masked


@pytest.mark.parametrize("text", KEPT)
def test_dates_prices_flats_and_quantities_stay(text: str) -> None:
    assert mask_private_numbers(text) == text


def test_what_was_masked_before_still_is() -> None:
    text = "我家电话13912345678，身份证320113198805061234，座机025-84561234"
    assert mask_private_numbers(text) == "我家电话139****5678，身份证3201**********1234，座机025-****1234"
    assert mask_private_numbers("电话１３９１２３４５６７８") == "电话139****5678"
    assert mask_private_numbers("13912345678 13812345678") == "139****5678 138****5678"
    assert mask_private_numbers("025 84567890，+86 139-1234-5678") == "025 ****7890，+86 139-****-5678"


def test_text_without_digits_is_returned_as_it_is() -> None:
    text = "楼道灯坏了，麻烦物业来看看" * 50
    assert mask_private_numbers(text) is text
    assert mask_private_numbers("") == ""


# --- names in the monthly report --------------------------------------------------------------------

ORDINARY = [
    "王府大街路灯坏了",
    "李子园小区门口积水",
    "楼道里张贴小广告",
    "周末垃圾没人清运",
    "高龄老人需要帮助",
    "马路上有坑",
    "金桥菜市场门口乱停车",
    "林荫道树枝断了压在车上",
    "叶子堆在下水口",
    "向阳花园停车难",
    "白领公寓停水",
    "洪水倒灌地下车库",
    "毛毛雨天路滑",
    "朱雀路井盖丢了",
    "门卫大爷很凶",
    "保洁阿姨辛苦了",
    "谢谢师傅",
    "江苏大哥帮了忙",
    "上周师傅来过一次",
    "值班师傅不在",
    "帅哥帮个忙",
    "老百姓生活不容易",
    "施工队长说明天停",
]
NAMED = [
    ("王阿姨家楼上漏水", "某阿姨家楼上漏水"),
    ("刘师傅修了两次还是漏水", "某师傅修了两次还是漏水"),
    ("蒋女士反映楼上装修", "某女士反映楼上装修"),
    ("王先生家门口的车位被占", "某先生家门口的车位被占"),
    ("车库里有人吸烟，周大爷说过好几次", "车库里有人吸烟，某大爷说过好几次"),
    ("我叫陈晓明，住3栋", "我叫某某，住3栋"),
    ("我姓王，住5栋", "我姓某，住5栋"),
    ("陈建华主任说会处理", "某某主任说会处理"),
    ("麻烦刘建华师傅再来一次", "麻烦某某师傅再来一次"),
    ("保安马师傅不让进", "保安某师傅不让进"),
    ("物业王经理不接电话", "物业某经理不接电话"),
    ("小李师傅修好了", "小某师傅修好了"),
    ("欧阳阿姨摔倒了", "某阿姨摔倒了"),
    ("李子园的李阿姨", "李子园的某阿姨"),
]


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    data = Path(__file__).resolve().parent.parent / "data" / "nlp" / "userdict.txt"
    return Segmenter(userdict=data, cache_dir=tmp_path_factory.mktemp("jieba"))


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_that_start_like_a_surname_are_kept(text: str, segmenter: Segmenter) -> None:
    assert NameMask().hide(text) == text
    assert NameMask(frequency=lambda w: int(segmenter._ready().FREQ.get(w) or 0)).hide(text) == text


@pytest.mark.parametrize(("text", "hidden"), NAMED)
def test_names_a_cue_introduces_are_hidden(text: str, hidden: str) -> None:
    assert NameMask().hide(text) == hidden


def test_place_names_before_a_title_are_not_names() -> None:
    places = NameMask(places=frozenset({"桂语湾", "紫藤苑"}))
    assert places.hide("桂语湾社工说，紫藤苑的网格员也来了") == "桂语湾社工说，紫藤苑的网格员也来了"
    assert places.hide("紫藤苑王阿姨") == "紫藤苑某阿姨"


OCTOBER = Month(2026, 10)
DISTRICT = Scope("district", None, "测试区", None, None)
AT = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)
PEOPLE = [  # id, registered name, role
    ("wxid_p1", "2-1103 刘玉珍", Role.RESIDENT),
    ("wxid_p2", "梧桐里网格员蒋涛", Role.GRID_WORKER),
    ("wxid_p3", "阳光", Role.RESIDENT),
    ("wxid_p4", "高峰", Role.RESIDENT),
    ("wxid_p5", "5-1704 周大姐", Role.RESIDENT),
]


def test_the_registry_says_whose_names_to_hide(app: App, segmenter: Segmenter) -> None:
    with session_scope(app.engine) as session:
        session.add_all(Person(id=i, name=n, role=r, community_id="c1") for i, n, r in PEOPLE)
    with Session(app.engine) as session:
        names = NameMask.from_registry(session, segmenter)
    assert {"刘玉珍", "蒋涛"} <= names.known
    assert not {"阳光", "高峰", "周大姐", "王阿姨", "老张", "小吴"} & names.known  # words, titles, nicknames
    assert {"幸福社区", "幸福", "测试街道", "测试"} <= names.places
    assert (
        names.hide("刘玉珍家门口，麻烦蒋涛看看，早高峰阳光很晒") == "某某家门口，麻烦某某看看，早高峰阳光很晒"
    )


def test_a_typical_case_hides_names_and_keeps_the_place(app: App) -> None:
    with session_scope(app.engine) as session:
        session.add_all(Person(id=i, name=n, role=r, community_id="c1") for i, n, r in PEOPLE)
        session.add(Person(id="wxid_p6", name="邻居", role=Role.RESIDENT, community_id="c1"))
        session.flush()
        summary = "王府大街李子园门口张贴的广告，刘玉珍说王阿姨周末摔倒了"
        session.add(
            Ticket(
                id=1,
                source_message_id="s1",
                community_id="c1",
                group_id="g1@chatroom",
                reporter_id="wxid_p6",
                category="养老助残",
                summary=summary,
                created_at=AT,
                deadline=AT + timedelta(hours=1),
                assigned_at=AT,
                accepted_at=AT + timedelta(minutes=2),
                resolved_at=AT + timedelta(minutes=30),
                state=TicketState.CLOSED,
                resolution="已送医",
                rating=Rating.SATISFIED,
                urgent=True,
            )
        )
        session.flush()
        session.add(TicketReporter(ticket_id=1, person_id="wxid_p6", message_id="r1", at=AT))
    with Session(app.engine) as session:
        (case,) = typical_cases(session, OCTOBER, DISTRICT, ConsultSection(0, 0, 0, None, 0, []))
    assert "“王府大街李子园门口张贴的广告，某某说某阿姨周末摔倒了”" in case.text
