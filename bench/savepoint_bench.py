"""What a savepoint rollback costs in a replay's session, which holds a district's registry.

Run from the repo root:  python bench/savepoint_bench.py [--groups 1160] [--rounds 200]

Loads the benchmark district (`bench/month_bench.py`'s registry) into a temporary SQLite database, reads it
into one session as a replay does, then times an empty savepoint rolled back against one released. The
replay now releases the savepoint of a refusal that wrote nothing (`App._untouched`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlmodel import Session, select  # noqa: E402

from core.db import make_engine, session_scope  # noqa: E402
from groups.models import ChatGroup, Membership, Person  # noqa: E402
from groups.registry import load_registry  # noqa: E402
from sim.district import plan_district, write_registry  # noqa: E402
from sim.month_run import machine  # noqa: E402
from xiaoqi.schema import migrate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1160)
    parser.add_argument("--rounds", type=int, default=200)
    options = parser.parse_args()
    facts = machine()
    print(
        f"machine: {facts['platform']}; CPU: {facts['cpu']}; cores: {facts['cores']}; Python {facts['python']}"
    )
    with tempfile.TemporaryDirectory() as folder:
        registry = Path(folder) / "registry.yaml"
        write_registry(plan_district(options.groups, 1), registry)
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        migrate(engine)
        with session_scope(engine) as session:
            load_registry(session, registry)
        with Session(engine) as session:
            held = [
                row for kind in (ChatGroup, Person, Membership) for row in session.exec(select(kind)).all()
            ]
            medians = {}
            for label, undo in (("rolled back", True), ("released", False)):
                times = []
                for _ in range(options.rounds):
                    begun = time.perf_counter()
                    savepoint = session.begin_nested()
                    if undo:
                        savepoint.rollback()
                    else:
                        savepoint.commit()
                    times.append(time.perf_counter() - begun)
                medians[label] = statistics.median(times) * 1000
        engine.dispose()
    print(f"objects held by the session: {len(held)}")
    for label, median in medians.items():
        print(f"empty savepoint {label}: median {median:.3f} ms over {options.rounds}")
    print(f"ratio: {medians['rolled back'] / medians['released']:.0f}x")


if __name__ == "__main__":
    main()
