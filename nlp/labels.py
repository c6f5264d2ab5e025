"""The label sets of ../shared/TAXONOMY.md and the value every classification returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PETITION = "诉求"
QUESTION = "咨询"
EMERGENCY = "紧急"
SUGGESTION = "建议"
PRAISE = "表扬"
ADVERT = "广告"
CHATTER = "闲聊"
INTENTS: tuple[str, ...] = (PETITION, QUESTION, EMERGENCY, SUGGESTION, PRAISE, ADVERT, CHATTER)
# What residents want fixed: the report's 诉求 figure counts both.
PETITION_INTENTS: tuple[str, ...] = (PETITION, EMERGENCY)
# What residents raise (petitions, emergencies, suggestions): hot topics come from these alone, not from
# questions, group-buy chatter or ads.
TOPIC_INTENTS: tuple[str, ...] = (PETITION, EMERGENCY, SUGGESTION)
CATEGORIES: tuple[str, ...] = (
    "物业管理",
    "环境卫生",
    "市政设施",
    "治安消防",
    "交通停车",
    "噪音扰民",
    "违建占道",
    "养老助残",
    "政务服务",
    "邻里纠纷",
    "其他",
)
NO_CATEGORY = "无"
POSITIVE, NEUTRAL, NEGATIVE = "正面", "中性", "负面"
SENTIMENTS: tuple[str, ...] = (POSITIVE, NEUTRAL, NEGATIVE)
# Intents that carry no matter to route, so their category is always 无.
INTENTS_WITHOUT_CATEGORY: frozenset[str] = frozenset({PRAISE, ADVERT, CHATTER})
# The three heads a full message model has, and what classify() answers when a head is missing.
HEADS: tuple[str, ...] = ("intent", "category", "sentiment")
DEFAULT_LABEL: Mapping[str, str] = MappingProxyType(
    {"intent": CHATTER, "category": NO_CATEGORY, "sentiment": NEUTRAL}
)

Scores = Mapping[str, Mapping[str, float]]


def _freeze(scores: Scores) -> Scores:
    """Read-only view with intent, category, sentiment first, whatever order heads came in."""
    order = [h for h in HEADS if h in scores] + sorted(h for h in scores if h not in HEADS)
    return MappingProxyType({head: MappingProxyType(dict(scores[head])) for head in order})


@dataclass(frozen=True)
class Labels:
    """Intent, category and sentiment of one message, with calibrated probabilities per head."""

    intent: str
    category: str
    sentiment: str
    scores: Scores = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", _freeze(self.scores))

    def __reduce__(self) -> tuple[type[Labels], tuple[str, str, str, dict[str, dict[str, float]]]]:
        """Pickled as plain dicts (a read-only view cannot be): labels cross to other processes."""
        scores = {head: dict(probs) for head, probs in self.scores.items()}
        return (Labels, (self.intent, self.category, self.sentiment, scores))

    @property
    def confidence(self) -> float:
        """Probability of the chosen intent, for deciding when to ask a human."""
        return float(self.scores.get("intent", {}).get(self.intent, 0.0))

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form: labels plus scores rounded for output."""
        return {
            "intent": self.intent,
            "category": self.category,
            "sentiment": self.sentiment,
            "scores": {
                head: {label: round(float(p), 4) for label, p in probs.items()}
                for head, probs in self.scores.items()
            },
        }
