"""A district-month (October 2026) generated and timed through the full pipeline and the report.

python bench/month_bench.py [--groups 1160] [--messages 350000] [--db URL] [--seed 1] [--out DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console

from core.settings import Settings
from sim.month_run import BenchOptions, run_bench, summary_lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1160, help="groups in the generated district")
    parser.add_argument(
        "--messages", type=int, default=350_000, help="messages in the month (duplicates on top)"
    )
    parser.add_argument("--db", help="database URL, best a fresh one (default: a new OUT/xiaoqi.db)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed generates the same month")
    parser.add_argument(
        "--out", type=Path, default=Path("xiaoqi-bench"), help="registry, database, log, report"
    )
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    if args.groups < 1 or args.messages < 1:
        parser.error("--groups and --messages must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.ERROR, filename=args.out / "xiaoqi.log")
    console = Console(highlight=False)
    options = BenchOptions(
        groups=args.groups, messages=args.messages, seed=args.seed, out=args.out, database_url=args.db
    )
    result = run_bench(Settings.from_env(), options, console)
    for line in summary_lines(result):
        console.print(line, soft_wrap=True, markup=False)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"numbers written to {args.json}", soft_wrap=True, markup=False)


if __name__ == "__main__":
    main()
