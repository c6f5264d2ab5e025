"""Intent accuracy of the default model on text written by another author than the seed corpus.

The demo month's pools (data/demo/scenes.yaml) were written for the demo, independently of the seed
corpus and never trained on. Each pool is a kind of message (greetings, complaints, praise, ads ...),
which gives an intent label per line. This estimates how the model does on a stranger's writing.

    python bench/crosscheck.py
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.settings import Settings  # noqa: E402
from nlp import default_model  # noqa: E402

CHATTER = [
    "morning_open",
    "morning_reply",
    "evening_open",
    "evening_reply",
    "goodnight_open",
    "goodnight_reply",
    "ack",
    "laugh",
    "chatter_share",
    "chatter_react",
    "weather",
    "food",
    "food_reply",
    "photo_caption",
    "photo_reply",
    "holiday",
    "holiday_reply",
    "national_day_reply",
    "weekend",
    "workday_back",
    "night_chat",
    "night_chat_reply",
    "secondhand_reply",
    "newcomer_intro",
    "me_too",
    "suggestion_reply",
]
POOL_INTENT = {
    **dict.fromkeys(CHATTER, "闲聊"),
    **dict.fromkeys(["petition_fix", "petition_conduct", "bot_petition", "night_noise"], "诉求"),
    **dict.fromkeys(["praise", "fixed_thanks", "thanks_generic", "settled_thanks"], "表扬"),
    "ad": "广告",
    "suggestion": "建议",
    "bot_question": "咨询",
}
FILL = {"{bld}": "5", "{room}": "302", "{word}": "栋", "{community}": "新家园", "{floor}": "3", "{unit}": "2"}


def _text(item: object) -> str:
    raw = item if isinstance(item, str) else str(item["text"])  # type: ignore[index]
    return re.sub(r"\{@?[a-z]+\}", lambda m: FILL.get(m.group(0), "小王"), raw)


def _cpu() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    settings = Settings.from_env()
    pools = yaml.safe_load((settings.data_dir / "demo" / "scenes.yaml").read_text(encoding="utf-8"))["pools"]
    model = default_model(settings.data_dir, settings.cache_dir)
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for name, gold in POOL_INTENT.items():
        texts = [_text(item) for item in pools.get(name, [])]
        for labels in model.classify_batch(texts):
            total[gold] += 1
            right[gold] += labels.intent == gold
            confusion[gold][labels.intent] += 1
    print(f"machine: {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| intent | lines | accuracy | most common predictions |")
    print("|---|---|---|---|")
    for gold in sorted(total, key=lambda g: -total[g]):
        top = ", ".join(f"{label} {n}" for label, n in confusion[gold].most_common(3))
        print(f"| {gold} | {total[gold]} | {right[gold] / total[gold]:.3f} | {top} |")
    overall = sum(right.values()) / sum(total.values())
    recall = sum(right[g] / total[g] for g in total) / len(total)
    print(f"| all | {sum(total.values())} | {overall:.3f} (macro recall {recall:.3f}) | |")


if __name__ == "__main__":
    main()
