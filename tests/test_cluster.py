"""Grouping residents' opinions in the discussion phase of a consultation (consult/cluster.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.cluster import (
    FILLER_WORDS,
    MAX_KEYWORDS,
    OTHER_KEYWORDS,
    QUOTE_CHARS,
    Viewpoint,
    group_opinions,
    summary_text,
)
from nlp.normalize import normalize
from nlp.segment import Segmenter, read_word_list

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
TOPIC = "东门空地怎么用"

# What residents of one compound wrote about the empty plot by the east gate: colloquial, with
# typos (花圆, 建身), traditional characters, WeChat emoticons, emoji and one repeat (g01).
GARDEN = [
    ("g01", "我觉得改成小花园最好，种点花草，老人孩子都能去坐坐🌸"),
    ("g02", "支持搞个微花园！！现在那块地全是垃圾和杂草"),
    ("g03", "种花种草吧，弄成花园，看着也舒服"),
    ("g04", "建议做成社区花园，可以让居民认领花坛自己种[强]"),
    ("g05", "花园+1，再放几张长椅给老人歇歇脚"),
    ("g06", "弄个小花圆呗，多种花草，别再堆杂物了"),
    ("g07", "绿化一下吧，种点花草树木，空气也好"),
    ("g08", "微花园好啊👍 小孩可以在那认识植物🌱"),
    ("g01", "改成小花园最好！种点花草，老人孩子都能去坐坐"),
    ("g09", "我投花園一票，種點月季"),
]
PARKING = [
    ("p01", "停车位太紧张了，晚上回来根本没地方停车，建议划成停车位"),
    ("p02", "做停车场吧，现在车都停到消防通道上了"),
    ("p03", "还是停车位实用，小区车越来越多"),
    ("p04", "划几个车位，收点停车费还能补贴物业"),
    ("p05", "晚上车都停不下，天天绕三圈找车位😩😩"),
    ("p06", "停车！停车！停车位根本不够用啊"),
    ("p07", "停車位太少了，支持做停车位"),
]
FITNESS = [
    ("f01", "装点健身器材吧，早上老人可以锻炼身体"),
    ("f02", "建个健身角，再弄个乒乓球台🏓"),
    ("f03", "希望有建身器材，现在锻炼只能去公园，太远了"),
    ("f04", "搞个健身小广场，晚上跳跳广场舞、锻炼锻炼都行"),
    ("f05", "健身器材+1，孩子也能玩"),
]
OTHERS = [
    ("o01", "先把东门的路灯修好吧，晚上黑乎乎的"),
    ("o02", "随便，听居委会安排"),
    ("o03", "👍👍👍"),
]
OPINIONS = GARDEN + PARKING + FITNESS + OTHERS


@pytest.fixture(scope="module")
def segmenter(cache_dir: Path) -> Segmenter:
    return Segmenter(DATA_DIR / "nlp" / "userdict.txt", cache_dir / "jieba")


@pytest.fixture(scope="module")
def viewpoints(segmenter: Segmenter) -> list[Viewpoint]:
    return group_opinions(OPINIONS, segmenter)


def authors(view: Viewpoint, opinions: Sequence[tuple[str, str]] = OPINIONS) -> set[str]:
    return {opinions[i][0] for i in view.members}


def group_of(viewpoints: list[Viewpoint], index: int) -> Viewpoint:
    (view,) = [v for v in viewpoints if index in v.members]
    return view


def check_invariants(opinions: Sequence[tuple[str, str]], viewpoints: list[Viewpoint]) -> None:
    """Every non-blank opinion is in exactly one viewpoint; counts, people and quotes add up."""
    members = [i for v in viewpoints for i in v.members]
    assert sorted(members) == [i for i, (_, text) in enumerate(opinions) if normalize(text)]
    for view in viewpoints:
        assert view.count == len(view.members) >= 1
        assert list(view.members) == sorted(view.members)
        assert view.people == len(authors(view, opinions))
        assert len(view.quote) <= QUOTE_CHARS
        assert 1 <= len(view.keywords) <= MAX_KEYWORDS  # the selection loop stops at the cap
        assert len(set(view.keywords)) == len(view.keywords)
    assert all(not v.is_other for v in viewpoints[:-1])
    ranks = [(-v.people, -v.count) for v in viewpoints if not v.is_other]
    assert ranks == sorted(ranks)


# --- the main viewpoints --------------------------------------------------------------------


def test_main_viewpoints_come_out_as_separate_groups(viewpoints: list[Viewpoint]) -> None:
    garden, parking, fitness = viewpoints[:3]
    assert authors(garden) == {a for a, _ in GARDEN}
    assert authors(parking) == {a for a, _ in PARKING}
    assert authors(fitness) == {a for a, _ in FITNESS}
    assert (garden.count, garden.people) == (len(GARDEN), len(GARDEN) - 1)
    assert (parking.count, parking.people) == (len(PARKING), len(PARKING))
    assert (fitness.count, fitness.people) == (len(FITNESS), len(FITNESS))
    check_invariants(OPINIONS, viewpoints)


def test_typos_and_traditional_characters_join_their_group(viewpoints: list[Viewpoint]) -> None:
    garden = group_of(viewpoints, 0)
    assert OPINIONS.index(("g06", "弄个小花圆呗，多种花草，别再堆杂物了")) in garden.members
    assert OPINIONS.index(("g09", "我投花園一票，種點月季")) in garden.members
    assert (
        OPINIONS.index(("f03", "希望有建身器材，现在锻炼只能去公园，太远了"))
        in group_of(viewpoints, len(GARDEN) + len(PARKING)).members
    )
    assert OPINIONS.index(("p07", "停車位太少了，支持做停车位")) in group_of(viewpoints, len(GARDEN)).members


def test_keywords_name_each_viewpoint(viewpoints: list[Viewpoint]) -> None:
    garden, parking, fitness = viewpoints[:3]
    assert garden.keywords[0] == "花园"
    assert parking.keywords[0] == "停车位"
    assert "健身" in fitness.keywords
    stopwords = set(read_word_list(DATA_DIR / "nlp" / "stopwords.txt"))
    for view in viewpoints:
        for word in view.keywords:
            assert word not in stopwords
            assert word not in FILLER_WORDS or view.is_other
            assert any(ch.isalnum() for ch in word)


def test_quote_is_a_representative_opinion_in_simplified_chinese(viewpoints: list[Viewpoint]) -> None:
    for view in viewpoints:
        if view.is_other:
            assert view.quote == ""
            continue
        texts = [OPINIONS[i][1] for i in view.members]
        assert any(normalize(view.quote) == normalize(text) for text in texts)
    parking = viewpoints[1]
    assert "車" not in parking.quote


def test_singletons_fill_free_slots_and_the_rest_is_the_remainder(viewpoints: list[Viewpoint]) -> None:
    # Three groups backed by several residents, two single-resident opinions shown, and the
    # contentless 👍 left for the remainder, which comes last.
    assert len(viewpoints) == 6
    assert [v.people for v in viewpoints[3:5]] == [1, 1]
    assert {OPINIONS[v.members[0]][0] for v in viewpoints[3:5]} == {"o01", "o02"}
    other = viewpoints[-1]
    assert other.is_other
    assert other.keywords == OTHER_KEYWORDS
    assert authors(other) == {"o03"}


def test_max_groups_sends_smaller_groups_to_the_remainder(segmenter: Segmenter) -> None:
    views = group_opinions(OPINIONS, segmenter, max_groups=2)
    assert len(views) == 3
    assert authors(views[0]) == {a for a, _ in GARDEN}
    assert authors(views[1]) == {a for a, _ in PARKING}
    other = views[2]
    assert other.is_other
    assert authors(other) == {a for a, _ in FITNESS + OTHERS}
    assert (other.count, other.people) == (len(FITNESS + OTHERS), len(FITNESS + OTHERS))
    check_invariants(OPINIONS, views)
    with pytest.raises(ValueError):
        group_opinions(OPINIONS, segmenter, max_groups=0)


def test_without_several_backers_singletons_wait_for_free_slots(segmenter: Segmenter) -> None:
    views = group_opinions(OPINIONS, segmenter, max_groups=3)
    assert [v.people for v in views[:3]] == [len(GARDEN) - 1, len(PARKING), len(FITNESS)]
    assert authors(views[3]) == {"o01", "o02", "o03"}


# --- repeats and ranking -------------------------------------------------------------------------


def test_same_author_repeat_counts_once_in_people(segmenter: Segmenter) -> None:
    opinions = [
        ("w1", "东门那块地划成停车位吧"),
        ("w1", "东门那块地划成停车位吧！！"),
        ("w1", "还是划停车位，停车位太少了😭"),
        ("w2", "支持停车位"),
        ("w3", "种点花草，弄个小花园"),
        ("w4", "小花园好，种花"),
    ]
    views = group_opinions(opinions, segmenter)
    parking = group_of(views, 0)
    assert parking.members == (0, 1, 2, 3)
    assert (parking.count, parking.people) == (4, 2)
    check_invariants(opinions, views)


def test_people_outrank_a_resident_who_repeats_himself(segmenter: Segmenter) -> None:
    opinions = [
        ("x", "装个充电桩吧"),
        ("x", "充电桩！！充电桩！！"),
        ("x", "快点装充电桩"),
        ("x", "电瓶车充电桩，必须的"),
        ("y1", "停车位不够，划停车位"),
        ("y2", "划停车位吧"),
    ]
    views = group_opinions(opinions, segmenter)
    assert [v.members for v in views] == [(4, 5), (0, 1, 2, 3)]
    assert [(v.people, v.count) for v in views] == [(2, 2), (1, 4)]
    assert views[1].keywords[0] == "充电桩"


# --- determinism ----------------------------------------------------------------------------


def comparable(views: list[Viewpoint], original: Sequence[int]) -> list[tuple[object, ...]]:
    """Viewpoints with members mapped back to indices of the unshuffled input."""
    return [
        (v.keywords, v.count, v.people, v.quote, tuple(sorted(original[i] for i in v.members))) for v in views
    ]


def test_same_input_same_result(segmenter: Segmenter, viewpoints: list[Viewpoint]) -> None:
    assert group_opinions(OPINIONS, segmenter) == viewpoints
    assert group_opinions(list(OPINIONS), segmenter) == viewpoints


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_input_order_does_not_change_the_groups(
    segmenter: Segmenter, viewpoints: list[Viewpoint], seed: int | None
) -> None:
    order = list(range(len(OPINIONS)))
    if seed is None:
        order.reverse()
    else:
        random.Random(seed).shuffle(order)
    shuffled = [OPINIONS[i] for i in order]
    views = group_opinions(shuffled, segmenter)
    assert comparable(views, order) == comparable(viewpoints, range(len(OPINIONS)))


# --- tiny and odd inputs ------------------------------------------------------------------------


def test_no_opinions(segmenter: Segmenter) -> None:
    assert group_opinions([], segmenter) == []
    assert summary_text(TOPIC, [], 0) == "关于“东门空地怎么用”，还没有收到意见。"


def test_one_opinion(segmenter: Segmenter) -> None:
    (view,) = group_opinions([("a", "做停车位吧")], segmenter)
    assert (view.count, view.people, view.members) == (1, 1, (0,))
    assert view.keywords == ("停车位",)
    assert view.quote == "做停车位吧"


def test_two_opinions(segmenter: Segmenter) -> None:
    apart = group_opinions([("a", "做停车位吧"), ("b", "种点花草，搞个花园")], segmenter)
    assert sorted(v.members for v in apart) == [(0,), (1,)]
    together = group_opinions([("a", "做停车位吧"), ("b", "停车位+1")], segmenter)
    assert [(v.members, v.people) for v in together] == [((0, 1), 2)]


ODD_TEXTS = [
    "",
    "   ",
    "\n\t",
    "👍👍👍",
    "[强][强]",
    "？？？！！！",
    "+1",
    "同意",
    "😂" * 300,
    "停车位" * 1700,
    "东门空地" + "啊" * 4990,
    "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(5000)),
    "电话13812345678，网址 www.example.com，3栋2单元501",
    "\x00\x01\ud800 broken \ufeff text",
    "ＡＢＣ　全角　ｔｅｘｔ",
]


def test_odd_inputs_never_raise(segmenter: Segmenter) -> None:
    opinions = [(f"a{i}", text) for i, text in enumerate(ODD_TEXTS)]
    views = group_opinions(opinions, segmenter)
    check_invariants(opinions, views)
    blank = {i for i, text in enumerate(ODD_TEXTS) if not normalize(text)}
    assert blank >= {0, 1, 2}
    assert not blank & {i for v in views for i in v.members}
    contentless = {ODD_TEXTS.index(t) for t in ("👍👍👍", "[强][强]", "？？？！！！", "+1", "同意")}
    assert contentless <= set(views[-1].members)
    assert views[-1].is_other
    summary_text(TOPIC, views, len(opinions))


def test_only_blank_or_contentless_opinions(segmenter: Segmenter) -> None:
    assert group_opinions([("a", ""), ("b", "  ")], segmenter) == []
    (other,) = group_opinions([("a", "👍"), ("b", "+1"), ("a", "")], segmenter)
    assert other.is_other
    assert (other.members, other.people) == ((0, 1), 2)
    text = summary_text(TOPIC, [other], 3)
    assert text == "关于“东门空地怎么用”，共收到 3 条意见，大家的想法比较分散。"


def test_long_opinions_are_quoted_short(segmenter: Segmenter) -> None:
    long_text = "东门空地我建议做成停车位，" + "晚上回来车根本没地方停，" * 400
    (view,) = group_opinions([("a", long_text), ("b", long_text + "！！")], segmenter)
    assert (view.count, view.people) == (2, 2)
    assert len(view.quote) == QUOTE_CHARS
    assert view.quote.endswith("…")
    assert long_text.startswith(view.quote[:-1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.one_of(
                st.text(max_size=40),
                st.text(alphabet="停车位花园健身器材种点吧！，👍 ", max_size=20),
            ),
        ),
        max_size=12,
    )
)
def test_any_text_keeps_the_invariants(segmenter: Segmenter, opinions: list[tuple[str, str]]) -> None:
    views = group_opinions(opinions, segmenter)
    check_invariants(opinions, views)
    assert "\n" in summary_text(TOPIC, views, len(opinions)) or len(views) <= 1


# --- the message for residents ----------------------------------------------------------------


def test_summary_text(viewpoints: list[Viewpoint]) -> None:
    people = len({a for a, _ in OPINIONS})
    text = summary_text(TOPIC, viewpoints, len(OPINIONS), people=people)
    lines = text.split("\n")
    assert lines[0] == f"关于“{TOPIC}”，共收到 {len(OPINIONS)} 条意见（{people} 人），主要有："
    assert lines[1].startswith("1. 花园（9 人）：“")
    assert lines[2].startswith("2. 停车位（7 人）：“")
    assert lines[3].startswith("3. ")
    assert "健身" in lines[3]
    assert "（5 人）" in lines[3]
    assert lines[-1] == "另有 1 条其他意见。"
    assert len(lines) == 7
    for line in lines[1:6]:
        assert line.endswith("”")
    assert "其他（" not in text
    assert not any("\ue000" <= ch <= "\uf8ff" for ch in text)  # no placeholder characters
    assert len(text) < 300


def test_summary_lists_at_most_five_viewpoints(segmenter: Segmenter) -> None:
    opinions = [*OPINIONS, ("q1", "放几个快递柜，取快递方便"), ("q2", "建个充电棚，电瓶车别再飞线了")]
    views = group_opinions(opinions, segmenter, max_groups=8)
    assert len([v for v in views if not v.is_other]) == 7
    text = summary_text(TOPIC, views, len(opinions))
    lines = text.split("\n")
    assert lines[0] == f"关于“{TOPIC}”，共收到 {len(opinions)} 条意见，主要有："
    assert [line[:2] for line in lines[1:6]] == ["1.", "2.", "3.", "4.", "5."]
    hidden = sum(v.count for v in views[5:])
    assert lines[6] == f"另有 {hidden} 条其他意见。"
    assert len(lines) == 7


def test_summary_joins_keywords_naturally() -> None:
    view = Viewpoint(("花园", "绿化"), 11, 9, "种点花草，老人孩子都能去坐坐", (0, 1))
    text = summary_text("东门空地怎么用", [view], 11, people=9)
    assert text == (
        "关于“东门空地怎么用”，共收到 11 条意见（9 人），主要有：\n"
        "1. 花园、绿化（9 人）：“种点花草，老人孩子都能去坐坐”"
    )


# --- speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_three_hundred_opinions_are_fast_and_copies_change_nothing(segmenter: Segmenter, seed: int) -> None:
    # Residents echo each other: 300 opinions that are the ones above with small endings, from
    # 250 residents. Copies must not split or merge the main viewpoints.
    rng = random.Random(seed)
    tails = ["", "！", "，谢谢", "👍", "。", "～", "[强]", "!!"]
    picks = [rng.randrange(len(OPINIONS)) for _ in range(300)]
    opinions = [(f"r{rng.randrange(250)}", OPINIONS[i][1] + rng.choice(tails)) for i in picks]
    group_opinions(opinions[:5], segmenter)  # jieba loads its dictionary once per process
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        views = group_opinions(opinions, segmenter)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5
    check_invariants(opinions, views)
    assert sum(v.count for v in views) == 300
    source = {"g": GARDEN, "p": PARKING, "f": FITNESS}
    for view, kind in zip(views[:3], "gpf", strict=True):
        expected = [n for n, i in enumerate(picks) if OPINIONS[i] in source[kind]]
        assert list(view.members) == expected
