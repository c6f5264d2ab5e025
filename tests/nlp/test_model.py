from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp import CATEGORIES, INTENTS, NO_CATEGORY, SENTIMENTS, Labels, MessageClassifier, default_model
from nlp.labels import INTENTS_WITHOUT_CATEGORY


def _valid(labels: Labels) -> None:
    assert labels.intent in INTENTS
    assert labels.sentiment in SENTIMENTS
    if labels.intent in INTENTS_WITHOUT_CATEGORY:
        assert labels.category == NO_CATEGORY
    else:
        assert labels.category in CATEGORIES
    assert 0.0 <= labels.confidence <= 1.0
    for head in ("intent", "category", "sentiment"):
        assert sum(labels.scores[head].values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        # A calm emergency: no exclamation marks, no 救命.
        ("对门独居的王奶奶两天没出门了，敲门也没人应，电话打不通", "紧急", None),
        ("楼道里有很浓的煤气味，我先把窗户打开了", "紧急", "治安消防"),
        # A complaint phrased as a question.
        ("电梯都停了三天了，物业是不是不打算修了？", "诉求", "物业管理"),
        ("楼上天天半夜蹦迪，还让不让人睡觉了？", "诉求", "噪音扰民"),
        # An ad posing as a neighbourly tip.
        ("邻居们分享个好东西，我妈吃了这个保健品血压都降了，要的加我微信", "广告", NO_CATEGORY),
        # Harmless chatter with fire words.
        ("今晚吃火锅，辣得我上火了哈哈", "闲聊", NO_CATEGORY),
        ("请问居住证在哪里办理，要带什么材料", "咨询", "政务服务"),
        ("感谢网格员小李，大半夜还来帮忙[强]", "表扬", NO_CATEGORY),
    ],
)
def test_hard_cases(classifier: MessageClassifier, text: str, intent: str, category: str | None) -> None:
    labels = classifier.classify(text)
    _valid(labels)
    assert labels.intent == intent, labels.scores["intent"]
    if category is not None:
        assert labels.category == category, labels.scores["category"]


def test_praise_is_positive_and_complaint_negative(classifier: MessageClassifier) -> None:
    assert classifier.classify("谢谢保洁阿姨，楼道打扫得真干净").sentiment == "正面"
    assert classifier.classify("垃圾三天没人收了，臭死了，物业干什么吃的").sentiment == "负面"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "很" * 10_000,
        "😂😂😂🔥",
        "hello, is anyone here?",
        "請問這個社區的居住證怎麼辦理",
        "\x00\x01\x1f\u200b\ufeff",
        "https://example.com/a?b=c",
        "[捂脸]",
        "\ud800",
    ],
)
def test_bad_input_always_gives_valid_labels(classifier: MessageClassifier, text: str) -> None:
    _valid(classifier.classify(text))


def test_empty_text_is_chatter(classifier: MessageClassifier) -> None:
    labels = classifier.classify("")
    assert (labels.intent, labels.category, labels.sentiment) == ("闲聊", NO_CATEGORY, "中性")


def test_batch_equals_single(classifier: MessageClassifier) -> None:
    texts = ["停水了", "谢谢物业", "着火了", "", "5栋2单元有人飞线充电"] * 120
    batch = classifier.classify_batch(texts)
    assert len(batch) == len(texts)
    for text, labels in zip(texts[:5], batch[:5], strict=True):
        single = classifier.classify(text)
        assert single == labels
        assert single.scores["intent"] == pytest.approx(dict(labels.scores["intent"]))


@pytest.mark.slow  # builds the default model a second time
def test_default_model_is_deterministic(
    data_dir: Path, tmp_path: Path, classifier: MessageClassifier
) -> None:
    rebuilt = default_model(data_dir, tmp_path)
    texts = ["电梯坏了", "请问怎么办医保", "点击领取红包", "我家老人摔倒了", "今天天气不错"]
    for a, b in zip(classifier.classify_batch(texts), rebuilt.classify_batch(texts), strict=True):
        assert a == b
        for head in ("intent", "category", "sentiment"):
            assert dict(a.scores[head]) == dict(b.scores[head])
    assert classifier.manifest.data_hash == rebuilt.manifest.data_hash


def test_default_model_is_cached(data_dir: Path, cache_dir: Path, classifier: MessageClassifier) -> None:
    models = list((cache_dir / "nlp").glob("default-*/manifest.json"))
    assert len(models) == 1
    again = default_model(data_dir, cache_dir)
    assert again.manifest.data_hash == classifier.manifest.data_hash
    assert len(list((cache_dir / "nlp").glob("default-*/manifest.json"))) == 1


@pytest.mark.slow
def test_save_load_and_fallback_for_missing_heads(classifier: MessageClassifier, tmp_path: Path) -> None:
    only_sentiment = MessageClassifier(
        {"sentiment": classifier.heads["sentiment"]}, classifier.segmenter, classifier.manifest
    )
    only_sentiment.save(tmp_path / "m")
    alone = MessageClassifier.load(tmp_path / "m")
    labels = alone.classify("电梯坏了三天了")
    assert labels.sentiment in SENTIMENTS
    assert labels.intent == "闲聊" and labels.category == NO_CATEGORY  # no head: defaults
    helped = MessageClassifier.load(tmp_path / "m", fallback=classifier)
    expected = classifier.classify("电梯坏了三天了")
    assert helped.classify("电梯坏了三天了") == expected


def test_category_scores_include_none_when_intent_has_no_matter(classifier: MessageClassifier) -> None:
    labels = classifier.classify("早上好，今天天气真好")
    assert labels.category == NO_CATEGORY
    assert NO_CATEGORY in labels.scores["category"]
    assert np.isclose(sum(labels.scores["category"].values()), 1.0)


def test_sentiment_alone_needs_no_segmentation_and_agrees_with_classify(
    classifier: MessageClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [
        "谢谢保洁阿姨，楼道打扫得真干净",
        "垃圾三天没人收了，臭死了",
        "明天几点停水",
        "我妈住院了 心里好慌",
        "😂😂",
        "5栋2单元 [捂脸]",
    ]
    expected = [labels.sentiment for labels in classifier.classify_batch(texts)]

    def no_jieba(_texts: object) -> list[str]:
        raise AssertionError("the sentiment head should not need jieba")

    monkeypatch.setattr(classifier.segmenter, "prepare_many", no_jieba)
    assert classifier.predict(texts, "sentiment") == expected
