from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nlp import MessageClassifier
from xiaoqi.cli_nlp import nlp_app

runner = CliRunner()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, cache_dir: Path, classifier: MessageClassifier
) -> None:
    """Point the CLI at the session's cache, where the default model is already built."""
    monkeypatch.setenv("XIAOQI_DATA_DIR", str(data_dir))
    monkeypatch.setenv("XIAOQI_CACHE_DIR", str(cache_dir))


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(nlp_app, name="nlp")
    return app


def test_classify_writes_one_json_object_per_line(env: None) -> None:
    lines = ["5栋电梯又坏了", "", "谢谢网格员[强]", "着火了快来人", "請問醫保怎麼辦"]
    result = runner.invoke(_app(), ["nlp", "classify"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in out] == lines
    for obj in out:
        assert set(obj) == {"text", "intent", "category", "sentiment", "scores"}
        assert set(obj["scores"]) == {"intent", "category", "sentiment"}
    assert out[3]["intent"] == "紧急"
    assert "谢谢网格员" in result.stdout  # ensure_ascii=False


def _tiny_csv(path: Path) -> None:
    rows = []
    for i in range(12):
        rows.append({"msg": f"电梯坏了第{i}次，快修", "topic": "维修", "mood": "差"})
        rows.append({"msg": f"谢谢师傅第{i}回帮忙", "topic": "感谢", "mood": "好"})
        rows.append({"msg": f"请问第{i}号文件在哪领", "topic": "咨询", "mood": "平"})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["msg", "topic", "mood"])
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.slow
def test_train_then_eval_round_trip(env: None, tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    _tiny_csv(data)
    model_dir = tmp_path / "model"
    result = runner.invoke(
        _app(),
        [
            "nlp",
            "train",
            "--data",
            str(data),
            "--text-col",
            "msg",
            "--label-col",
            "topic",
            "--label-col",
            "mood",
            "--out",
            str(model_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (model_dir / "manifest.json").is_file()
    result = runner.invoke(
        _app(),
        [
            "nlp",
            "eval",
            "--data",
            str(data),
            "--text-col",
            "msg",
            "--label-col",
            "topic",
            "--model",
            str(model_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["accuracy"] == 1.0 and last["macro_f1"] == 1.0
    assert "confusion matrix" in result.stdout
    result = runner.invoke(
        _app(), ["nlp", "eval", "--data", str(data), "--text-col", "msg", "--label-col", "mood", "--cv", "3"]
    )
    assert result.exit_code == 0, result.output
    assert {"accuracy", "macro_f1"} <= set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_classify_with_single_head_model_falls_back(env: None, tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    _tiny_csv(data)
    model_dir = tmp_path / "model"
    result = runner.invoke(
        _app(),
        [
            "nlp",
            "train",
            "--data",
            str(data),
            "--text-col",
            "msg",
            "--label-col",
            "mood",
            "--out",
            str(model_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(_app(), ["nlp", "classify", "--model", str(model_dir)], input="谢谢师傅\n")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout.splitlines()[0])
    assert "mood" in obj["scores"] and "intent" in obj["scores"]


def test_clear_errors_for_missing_file_and_column(env: None, tmp_path: Path) -> None:
    result = runner.invoke(
        _app(),
        [
            "nlp",
            "train",
            "--data",
            str(tmp_path / "nope.csv"),
            "--label-col",
            "x",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
    data = tmp_path / "tiny.csv"
    _tiny_csv(data)
    result = runner.invoke(
        _app(),
        [
            "nlp",
            "train",
            "--data",
            str(data),
            "--text-col",
            "msg",
            "--label-col",
            "colour",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2
    assert "colour" in result.output and "msg" in result.output
    result = runner.invoke(
        _app(), ["nlp", "eval", "--data", str(data), "--text-col", "msg", "--label-col", "topic"]
    )
    assert result.exit_code == 2
