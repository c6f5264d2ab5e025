"""`xiaoqi eval conversations`: what the bot did with a labelled conversation, and the project's floors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import Settings
from nlp import MessageClassifier
from xiaoqi.cli import app
from xiaoqi.cli_eval import evaluate
from xiaoqi.conversations import Label, LabelError, read_labelled

DATA = Settings().data_dir
REGISTRY = DATA / "demo" / "registry.yaml"
SMALL = Path(__file__).parent / "data" / "conversation.jsonl"
KEYS = {
    "ticket_precision",
    "problem_recall",
    "duplicates",
    "emergency_precision",
    "emergency_recall",
    "confirmations",
    "group_messages_per_100",
}


def test_the_command_prints_the_figures_and_ends_with_them_as_json(
    tmp_path: Path, cache_dir: Path, classifier: MessageClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAOQI_CACHE_DIR", str(cache_dir))
    args = [
        "eval",
        "conversations",
        str(SMALL),
        "--registry",
        str(REGISTRY),
        "--out",
        str(tmp_path / "o.jsonl"),
    ]
    result = CliRunner().invoke(app, [*args, "--explain"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    figures = json.loads(lines[-1])
    assert set(figures) >= KEYS
    # 28 lines: the lift (three people), the rubbish (twice by one, once by a neighbour two days later),
    # the e-bike charging, the old man and his room number, the ambulance; the rest is chatter and traps
    assert figures["problems"] == 3 and figures["emergencies"] == 1
    assert figures["emergency_recall"] == 1.0 and figures["urgent_tickets"] == 1
    assert figures["ticket_precision"] == 1.0 and figures["problem_recall"] == 1.0
    assert figures["duplicates"] == 0 and figures["exempt_tickets"] == 0
    # --explain: each line with its label, the ticket it opened (#) or joined (+), and intake's reason
    explained = {m[1]: line for line in lines if (m := re.match(r"^[! ] +(\d+) ", line))}
    assert "#" in explained["15"] and "emergency" in explained["15"]  # the old man
    assert "address for the thread" in explained["16"]  # his room number, in his ticket's log
    assert "+2!" in explained["18"]  # the ambulance: a neighbour's news, in the emergency
    assert "+3 " in explained["20"]  # "确实 太危险了": the e-bike charging, not the emergency before it
    assert "nothing (said again)" in explained["24"]
    assert "+4 " in explained["28"] and "progress" in explained["28"]  # told where it stands, and kept posted
    assert (tmp_path / "o.jsonl").read_text(encoding="utf-8").count("\n") > 0


def test_a_bad_label_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"at": "2026-11-09T07:41:00+08:00", "group": "g1@chatroom", "from": "wxid_r1", "text": "早", '
        '"label": "none"}\n'
        '{"at": "2026-11-09T07:42:00+08:00", "group": "g1@chatroom", "from": "wxid_r1", "text": "电梯坏了", '
        '"label": "petition"}\n',
        encoding="utf-8",
    )
    with pytest.raises(LabelError, match="line 2: label 'petition'"):
        read_labelled(bad.open(encoding="utf-8"), "xiaoqi")
    result = CliRunner().invoke(app, ["eval", "conversations", str(bad), "--registry", str(REGISTRY)])
    assert result.exit_code == 1 and "line 2: label 'petition'" in result.output


def test_labels_parse() -> None:
    assert Label.parse("ticket:p07") == Label("ticket", "p07")
    assert Label.parse("none") == Label("none")
    assert Label.parse("emergency:e2").real and not Label.parse("echo:p1").real
    with pytest.raises(ValueError):
        Label.parse("ticket:")


# Floors on the project's corpus (docs/conversations.md): the holdout was written by another author and is
# never used for tuning; the tuning sets must not regress either. Measured values are in the README.
FLOORS = {
    "holdout.jsonl": {"ticket_precision": 0.9, "problem_recall": 0.85, "emergency_precision": 0.7},
    "tune.jsonl": {"ticket_precision": 0.95, "problem_recall": 0.95, "emergency_precision": 0.9},
    "tune2.jsonl": {"ticket_precision": 0.8, "problem_recall": 0.9, "emergency_precision": 0.9},
    "tune3.jsonl": {"ticket_precision": 0.88, "problem_recall": 0.9, "emergency_precision": 0.85},
}
MOST_DUPLICATES = {"holdout.jsonl": 6, "tune.jsonl": 3, "tune2.jsonl": 3, "tune3.jsonl": 3}


def test_a_held_out_week_of_ordinary_chat_stays_within_the_noise_budget(
    tmp_path: Path, cache_dir: Path, classifier: MessageClassifier
) -> None:
    """week.jsonl: a week in two groups, written by its own author and never used for tuning."""
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'eval.db'}", cache_dir=cache_dir)
    found = evaluate(settings, DATA / "conversations" / "week.jsonl", REGISTRY).as_dict()
    assert found["group_messages_per_100"] <= 8.0, found  # data/groups/noise.yaml's target
    assert found["emergency_recall"] == 1.0 and found["exempt_tickets"] == 0, found
    assert found["problem_recall"] >= 0.9 and found["ticket_precision"] >= 0.55, found


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_project_corpus_stays_above_its_floors(
    name: str, tmp_path: Path, cache_dir: Path, classifier: MessageClassifier
) -> None:
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'eval.db'}", cache_dir=cache_dir)
    found = evaluate(settings, DATA / "conversations" / name, REGISTRY).as_dict()
    assert found["emergency_recall"] == 1.0, found  # an emergency is never missed
    assert found["exempt_tickets"] == 0, found  # staff and the property desk never open one by the model
    assert found["duplicates"] <= MOST_DUPLICATES[name], found
    for key, floor in FLOORS[name].items():
        assert found[key] >= floor, (key, found)
