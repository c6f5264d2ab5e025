"""What the bot does with labelled conversations (docs/conversations.md): the project's corpus and the demo
month, measured by `xiaoqi eval conversations`' own figures; optionally against another checkout.

Run from the repo root:
    python bench/conversations_bench.py                      # the corpus and the demo month (no staff)
    python bench/conversations_bench.py --demo               # also `xiaoqi demo` (simulated staff answer)
    python bench/conversations_bench.py --against ../old     # the same, for another checkout too

`--against DIR` runs that checkout's own `xiaoqi simulate` (and `xiaoqi demo`) in a subprocess, with the
labels taken out of the input (older simulators refuse the key), and scores its database with this
checkout's figures, so both are measured the same way. Prints the machine and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from core.settings import Settings  # noqa: E402
from xiaoqi.cli_eval import evaluate  # noqa: E402
from xiaoqi.conversations import Figures, figures, read_labelled  # noqa: E402

DATA = REPO / "data"
REGISTRY = DATA / "demo" / "registry.yaml"
CORPUS = {
    "tune (tuned on)": DATA / "conversations" / "tune.jsonl",
    "tune2 (tuned on)": DATA / "conversations" / "tune2.jsonl",
    "tune3 (tuned on)": DATA / "conversations" / "tune3.jsonl",
    "holdout (never tuned on)": DATA / "conversations" / "holdout.jsonl",
    "week of ordinary chat (never tuned on)": DATA / "conversations" / "week.jsonl",
    "demo month, no staff": DATA / "demo" / "month.jsonl",
}
COLUMNS = (
    ("ticket_precision", "ticket precision"),
    ("problem_recall", "problem recall"),
    ("duplicates", "duplicates"),
    ("emergency_precision", "emergency precision"),
    ("emergency_recall", "emergency recall"),
    ("confirmations", "confirmations"),
    ("group_messages_per_100", "group msgs / 100 residents'"),
    ("exempt_tickets", "tickets from staff / exempt"),
)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    return f"{cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _run(checkout: Path, *args: str) -> None:
    """`xiaoqi ARGS` of another checkout, in a subprocess (its own packages shadow ours there)."""
    code = "import sys; from xiaoqi.cli import main; sys.argv = ['xiaoqi', *sys.argv[1:]]; main()"
    subprocess.run([sys.executable, "-c", code, *args], cwd=checkout, check=True, capture_output=True)


def _score(db: Path, events: Path, replies: Path) -> Figures:
    talk = read_labelled(events.open(encoding="utf-8"), Settings().bot_id)
    sent = [json.loads(line) for line in replies.read_text(encoding="utf-8").splitlines() if line.strip()]
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            return figures(session, talk, sum(1 for o in sent if o["group"] is not None))
    finally:
        engine.dispose()


def measure_here(events: Path, scratch: Path) -> Figures:
    return evaluate(Settings.from_env(database_url=f"sqlite:///{scratch / 'here.db'}"), events, REGISTRY)


def measure_there(checkout: Path, events: Path, scratch: Path) -> Figures:
    plain = scratch / "plain.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines()
    plain.write_text(
        "".join(
            json.dumps({k: v for k, v in json.loads(x).items() if k != "label"}, ensure_ascii=False) + "\n"
            for x in lines
            if x.strip()
        ),
        encoding="utf-8",
    )
    db, out = scratch / "there.db", scratch / "there.jsonl"
    _run(
        checkout,
        "simulate",
        str(plain),
        "--registry",
        str(REGISTRY),
        "--db",
        f"sqlite:///{db}",
        "--out",
        str(out),
    )
    return _score(db, events, out)


def demo(checkout: Path, scratch: Path) -> Figures:
    out = scratch / "demo"
    _run(checkout, "demo", "--out", str(out))
    return _score(out / "xiaoqi.db", DATA / "demo" / "month.jsonl", out / "replies.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout of the project, measured the same way")
    parser.add_argument("--demo", action="store_true", help="also run `xiaoqi demo` (about a minute each)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    versions: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.against is not None:
        versions.insert(0, (f"{args.against}", args.against.resolve()))
    rows: list[tuple[str, str, Figures]] = []
    for name, events in CORPUS.items():
        for version, checkout in versions:
            with tempfile.TemporaryDirectory(prefix="xiaoqi-convbench-") as scratch:
                found = (
                    measure_here(events, Path(scratch))
                    if checkout is None
                    else measure_there(checkout, events, Path(scratch))
                )
            rows.append((name, version, found))
            print(f"{name} / {version}: {json.dumps(found.as_dict(), ensure_ascii=False)}", flush=True)
    if args.demo:
        for version, checkout in versions:
            with tempfile.TemporaryDirectory(prefix="xiaoqi-convbench-") as scratch:
                found = demo(checkout or REPO, Path(scratch))
            rows.append(("demo month with simulated staff (`xiaoqi demo`)", version, found))
            print(f"demo / {version}: {json.dumps(found.as_dict(), ensure_ascii=False)}", flush=True)
    print()
    print("| conversation | version | " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, version, found in rows:
        values = found.as_dict()
        cells = ["-" if values[key] is None else str(values[key]) for key, _ in COLUMNS]
        print(f"| {name} | {version} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
