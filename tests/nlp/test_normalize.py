from __future__ import annotations

from nlp.normalize import (
    BUILDING,
    EMOTICON_TOKENS,
    MAX_CHARS,
    PHONE,
    ROOM,
    UNIT,
    URL,
    normalize,
    readable,
)


def test_full_width_to_half_width_and_lowercase() -> None:
    assert normalize("ＡＢＣ１２３！") == "abc\ue006!"


def test_traditional_to_simplified() -> None:
    assert normalize("這間酒店環境和服務態度不錯") == "这间酒店环境和服务态度不错"


def test_urls_emails_phones_become_tokens() -> None:
    text = normalize("点这里 https://t.cn/AbC?x=1 领红包 电话138-1234-5678 邮箱a.b@qq.com")
    assert URL in text and PHONE in text
    assert "t.cn" not in text and "138" not in text and "qq.com" not in text


def test_building_unit_room_numbers_become_tokens() -> None:
    assert normalize("5栋2单元") == BUILDING + UNIT
    assert normalize("12幢301") == BUILDING + ROOM
    assert normalize("3-2-501漏水") == BUILDING + UNIT + ROOM + "漏水"
    assert readable(normalize("3号楼1201室")) == "<楼栋><房号>"


def test_wechat_emoticons_and_emoji_kept_as_signal() -> None:
    text = normalize("谢谢[强][捂脸]👍🏻")
    assert EMOTICON_TOKENS["强"] in text and EMOTICON_TOKENS["捂脸"] in text
    assert "👍" in text and "\U0001f3fb" not in text  # skin tone dropped, emoji kept
    assert readable(text) == "谢谢[强][捂脸]👍"


def test_control_and_invisible_characters_removed() -> None:
    assert normalize("a\x00b\x07c\u200d\ufeff\ue5ad") in {"abc", "abc\ue5ad"}
    assert normalize("第一行\n第二行\t") == "第一行 第二行"


def test_long_text_truncated_and_odd_input_safe() -> None:
    assert len(normalize("很" * 10_000)) <= MAX_CHARS
    assert normalize("") == ""
    assert normalize(None) == ""  # type: ignore[arg-type]
    assert normalize("\ud800孤立代理") == "孤立代理"
