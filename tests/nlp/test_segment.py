from __future__ import annotations

from pathlib import Path

import pytest

from nlp.normalize import normalize
from nlp.segment import TOKEN_SEP, Segmenter, read_word_list


@pytest.fixture(scope="module")
def segmenter(data_dir: Path, cache_dir: Path) -> Segmenter:
    return Segmenter(data_dir / "nlp" / "userdict.txt", cache_dir / "jieba")


def test_user_dictionary_has_governance_words(data_dir: Path) -> None:
    words = read_word_list(data_dir / "nlp" / "userdict.txt")
    assert len(words) >= 150
    for word in ("网格员", "飞线充电", "物业费", "楼道", "电瓶车", "化粪池", "不见面审批", "居住证"):
        assert word in words


def test_governance_words_stay_whole(segmenter: Segmenter) -> None:
    words = segmenter.words(normalize("楼道里飞线充电，网格员说要交物业费，化粪池又满了"))
    for word in ("楼道", "飞线充电", "网格员", "物业费", "化粪池"):
        assert word in words


def test_jieba_cache_goes_to_the_given_dir(segmenter: Segmenter, cache_dir: Path) -> None:
    segmenter.words("初始化")
    assert list((cache_dir / "jieba").glob("*.cache"))


def test_private_tokenizer_leaves_global_jieba_alone(segmenter: Segmenter) -> None:
    import jieba

    segmenter.words("飞线充电")
    assert segmenter._tokenizer is not jieba.dt
    assert "飞线充电" not in jieba.dt.FREQ


def test_prepare_joins_tokens_and_handles_empty(segmenter: Segmenter) -> None:
    assert segmenter.prepare("") == ""
    assert TOKEN_SEP in segmenter.prepare("今天停水了")


def test_stopwords_keep_question_and_negation_words(data_dir: Path) -> None:
    stopwords = set(read_word_list(data_dir / "nlp" / "stopwords.txt"))
    assert {"的", "了"} <= stopwords
    assert not stopwords & {"怎么", "吗", "不", "没", "哪", "啥", "快"}


def test_unsegmented_equals_a_prepared_document_without_separators(segmenter: Segmenter) -> None:
    from nlp import normalize
    from nlp.segment import unsegmented

    for raw in [
        "今天停水了 大家 注意",
        "hello world 你好",
        "5栋2单元 [捂脸]  😂 http://t.cn/x",
        "請問 這個\t社區",
        "",
        "   ",
        "a  b\u3000c",
    ]:
        text = normalize(raw)
        assert unsegmented(text) == segmenter.prepare(text).replace(TOKEN_SEP, "")
