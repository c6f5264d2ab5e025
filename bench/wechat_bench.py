"""Benchmark of the bot on the real Wechaty stack: message-to-reply latency and sustained messages/s.

Run from the repo root:  python bench/wechat_bench.py [--messages 600] [--window 16] [--json-only]

What runs is what runs in production, on loopback: a scripted WeChat (tests/e2e/puppet_server.mjs,
wechaty-puppet-mock served by wechaty-puppet-service over gRPC), python-wechaty, `WechatyTransport`,
`App.handle` with the real default classifier, and a fresh SQLite database loaded with the test
registry. Residents write into one room; every message gets a room reply that @-mentions its sender
(#帮助, "@小棲 帮助", #进度, petitions that become tickets or notes on one; staff get private notes).

Two phases after a warm-up of 20 messages that are not counted:
  1. latency: one message at a time; each is timed from writing the "say" command to the Node
     server's stdin until the server reports the reply (its "sent" event on stdout);
  2. throughput: the same number of messages pushed as fast as the bot takes them, at most
     `--window` unanswered at once; replies counted per second.
Prints the machine, both phases, where the time goes, and a final JSON line with every number.
The bench and the bot share one Python process (as the e2e tests do): times are stamped by a thread
that reads the Node server's stdout, so a stamp can lag by the GIL's switch interval (5 ms) while
the bot is busy, which the throughput phase always is.
Needs Node 18+ and the `wechat` extra (`make test` installs both); runs `npm ci` in tests/e2e if needed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

E2E = REPO / "tests" / "e2e"
REGISTRY = REPO / "tests" / "data" / "registry.yaml"
BOT = "wxid_xiaoqi_bot"
ROOM = "g1@chatroom"
WARMUP = 20
REPLY_TIMEOUT = 20.0  # seconds to wait for any one reply before counting it missing
GENEROUS = 100_000  # send limits: the bench measures the pipeline, not the limiter
SEPARATOR = "\u2005"  # what WeChat puts after "@name"

# Residents of the room (not in the registry, as most residents are not) plus everyone the registry
# names, so the bot's private notes to staff reach a contact that exists.
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
STAFF = [
    ("wxid_sg", "李社工"),
    ("wxid_wg", "周网格"),
    ("wxid_sg2", "何社工"),
    ("wxid_ld", "陈主任"),
    ("wxid_admin", "管理员小吴"),
    ("wxid_dept", "城管王科长"),
    ("wxid_r1", "5栋-302 王阿姨"),
    ("wxid_r2", "小雨妈妈"),
    ("wxid_r3", "老张"),
]
RESIDENTS = [
    (
        f"wxid_bench_{k:02d}",
        f"{k % 5 + 1}栋-{(k % 6 + 1) * 100 + k % 4 + 1} {SURNAMES[k % len(SURNAMES)]}阿姨",
    )
    for k in range(37)  # prime: each resident sends every kind of message in the cycle of 10
]
PETITIONS = [
    "5栋楼道灯坏了好几天了，麻烦处理一下",
    "3栋门口垃圾堆了三天没人清",
    "小区东门的路灯晚上不亮，走路很危险",
    "楼上每天半夜装修，吵得没法睡觉",
    "2栋电梯又坏了，老人上下楼很不方便",
    "地下车库漏水，车位上全是水",
    "4栋楼下有人乱停车，消防通道被堵了",
    "小区里的健身器材坏了，孩子玩很危险",
    "1栋的水管爆了，楼道里都是水",
    "绿化带里的树枝断了，挂在半空",
    "有人在楼道里堆放杂物，想请物业清理",
    "垃圾站的味道太大了，夏天更严重",
]


def mix(index: int) -> tuple[str, list[str]]:
    """The text (and mention ids) of message `index`: a fixed cycle of what residents send the bot."""
    petition = PETITIONS[(index // 10) % len(PETITIONS)]
    kind = index % 10
    if kind in (0, 4, 7):
        return "#帮助", []
    if kind == 1:
        return f"@小棲{SEPARATOR}帮助", [BOT]
    if kind in (2, 8):
        return f"#反映 {petition}", []
    if kind == 3:
        return f"@小棲{SEPARATOR}{petition}", [BOT]
    if kind == 5:
        return "#进度", []
    if kind == 6:
        return petition, []  # no command, no mention: the classifier finds the petition
    return f"@小棲{SEPARATOR}#进度", [BOT]


# --- the machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    versions = {}
    for package in ("wechaty", "wechaty-puppet-service", "grpclib", "SQLAlchemy", "scikit-learn"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "node": node,
        "packages": versions,
        "load_average_1min": round(os.getloadavg()[0], 2),  # anything else running skews the figures
    }


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the Node side: a scripted WeChat --------------------------------------------------------------


def ensure_node_modules(say: Callable[[str], None]) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("wechat_bench: node and npm (Node 18+) are needed")
    if not (E2E / "node_modules" / ".package-lock.json").exists():
        say("installing the Node side (npm ci in tests/e2e) ...")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=E2E, check=True)


@dataclass
class Sent:
    """One message the bench sent, and when its reply came back (perf_counter seconds)."""

    message_id: str
    sender: str
    text: str
    t0: float
    t1: float | None = None
    reply: str = ""


class PuppetServer:
    """tests/e2e/puppet_server.mjs: "say" commands in on stdin, what the bot sent out on stdout.

    A reader thread stamps each line as it arrives and matches a room reply that @-mentions one
    resident to that resident's oldest unanswered message (the bot answers in order).
    """

    def __init__(self, workdir: Path) -> None:
        self.token = f"puppet_xiaoqi_bench_{secrets.token_hex(8)}"
        scenario = {
            "token": self.token,
            "port": 0,
            "bot": {"id": BOT, "name": "小棲"},
            "contacts": [{"id": i, "name": n} for i, n in STAFF + RESIDENTS],
            "rooms": [
                {
                    "id": ROOM,
                    "topic": "幸福1-5栋群",
                    "members": ["wxid_r1", "wxid_sg", "wxid_wg"] + [i for i, _ in RESIDENTS],
                }
            ],
        }
        self.log_path = workdir / "puppet_server.log"
        self._log: TextIO = self.log_path.open("w")
        self.process = subprocess.Popen(
            ["node", str(E2E / "puppet_server.mjs"), json.dumps(scenario, ensure_ascii=False)],
            cwd=E2E,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "WECHATY_LOG": "warn"},
        )
        self.port = 0
        self.errors: list[str] = []
        self.other_sent = 0  # sends that answer nobody we wait for: notes to staff
        self.closed = False
        self._cond = threading.Condition()
        self._pending: dict[str, deque[Sent]] = {}
        self._unanswered = 0
        self._reader = threading.Thread(target=self._read, name="puppet-stdout", daemon=True)
        self._reader.start()
        with self._cond:
            if not self._cond.wait_for(lambda: self.port or self.closed, timeout=60):
                raise TimeoutError("the puppet server did not start listening within 60 s")
        if not self.port:
            raise RuntimeError(f"the puppet server exited: {self.log_tail()}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            stamp = time.perf_counter()
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self._take(event, stamp)
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def _take(self, event: dict[str, Any], stamp: float) -> None:
        kind = event.get("event")
        if kind == "listening":
            self.port = int(event["port"])
        elif kind == "error":
            self.errors.append(str(event.get("message")))
        elif kind in ("sent", "sent-file"):
            mentions = event.get("mentions") or []
            waiting = (
                self._pending.get(mentions[0]) if event.get("conversation") == ROOM and mentions else None
            )
            if not waiting:
                self.other_sent += 1
                return
            sent = waiting.popleft()
            sent.t1, sent.reply = stamp, str(event.get("text", ""))
            self._unanswered -= 1

    def say(self, message_id: str, sender: str, text: str, mentions: list[str]) -> Sent:
        command: dict[str, Any] = {"op": "say", "id": message_id, "from": sender, "room": ROOM, "text": text}
        if mentions:
            command["mentions"] = mentions
        line = (json.dumps(command, ensure_ascii=False) + "\n").encode()
        assert self.process.stdin is not None
        with self._cond:
            sent = Sent(message_id, sender, text, t0=time.perf_counter())
            self._pending.setdefault(sender, deque()).append(sent)
            self._unanswered += 1
        self.process.stdin.write(line)
        self.process.stdin.flush()
        return sent

    def wait(self, until: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            done = self._cond.wait_for(lambda: until() or self.closed, timeout=timeout)
            if self.closed and not until():
                raise RuntimeError(f"the puppet server exited: {self.log_tail()}")
            return bool(done)

    def unanswered(self) -> int:
        return self._unanswered

    def forget(self, sents: list[Sent]) -> None:
        """Stop waiting for these (no reply in time): later replies must not be matched to them."""
        with self._cond:
            for sent in sents:
                waiting = self._pending.get(sent.sender)
                if sent.t1 is None and waiting and sent in waiting:
                    waiting.remove(sent)
                    self._unanswered -= 1

    def log_tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # the server exits when its stdin closes
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        self._log.close()


# --- the Python side: the bot as `xiaoqi run` builds it -------------------------------------------


def generous_settings(settings: Any) -> tuple[Any, list[str]]:
    """Raise any send rate limit so the bench measures the pipeline, not the limiter."""
    changed: list[str] = []

    def raise_limits(obj: Any, prefix: str) -> dict[str, Any]:
        updates: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            limit_name = any(word in f.name for word in ("minute", "burst", "per_", "rate"))
            if limit_name and isinstance(value, int) and not isinstance(value, bool) and value < GENEROUS:
                updates[f.name] = GENEROUS
                changed.append(f"{prefix}{f.name}={value}->{GENEROUS}")
        return updates

    updates = raise_limits(settings, "")
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and "send" in f.name:
            inner = raise_limits(value, f"{f.name}.")
            if inner:
                updates[f.name] = dataclasses.replace(value, **inner)
    return dataclasses.replace(settings, **updates), changed


@dataclass
class Probe:
    """Where each message's time goes, stamped inside the bot (perf_counter seconds, by message id)."""

    arrived: dict[str, float] = dataclasses.field(default_factory=dict)  # transport got the event
    handle: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # App.handle
    handled: dict[str, float] = dataclasses.field(default_factory=dict)  # all its replies sent

    def on_handled(self, incoming: Any, replies: Any) -> None:
        self.handled[incoming.message_id] = time.perf_counter()

    def wrap(self, app: Any, transport: Any) -> None:
        real_handle = app.handle

        def handle(incoming: Any) -> Any:
            start = time.perf_counter()
            try:
                return real_handle(incoming)
            finally:
                self.handle[incoming.message_id] = (start, time.perf_counter())

        app.handle = handle
        real_on_message = getattr(transport, "_on_message", None)
        if real_on_message is not None:  # bound by start(): stamp the event as python-wechaty hands it over

            async def on_message(msg: Any) -> None:
                self.arrived[str(getattr(msg, "message_id", ""))] = time.perf_counter()
                await real_on_message(msg)

            transport._on_message = on_message


# --- the measurements ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def breakdown(sents: list[Sent], probe: Probe) -> dict[str, float]:
    """Medians of each stage, in ms, over the answered messages the bot stamped."""
    stages: dict[str, list[float]] = {
        "to_python": [],
        "queue": [],
        "handle": [],
        "send": [],
        "all_sends": [],
    }
    for s in sents:
        handle = probe.handle.get(s.message_id)
        arrived = probe.arrived.get(s.message_id)
        if s.t1 is None or handle is None:
            continue
        if arrived is not None:
            stages["to_python"].append(arrived - s.t0)
            stages["queue"].append(handle[0] - arrived)
        stages["handle"].append(handle[1] - handle[0])
        stages["send"].append(s.t1 - handle[1])
        if s.message_id in probe.handled:
            stages["all_sends"].append(probe.handled[s.message_id] - s.t0)
    return {k: round(statistics.median(v) * 1000, 2) for k, v in stages.items() if v}


def handle_seconds(sents: list[Sent], probe: Probe) -> float:
    """Wall time spent inside App.handle for these messages, summed."""
    spans = [probe.handle[s.message_id] for s in sents if s.message_id in probe.handle]
    return round(sum(end - start for start, end in spans), 2)


STAGES = {
    "to_python": "Node emits the message -> gRPC stream -> python-wechaty loads its payload -> transport",
    "queue": "transport -> App.handle starts (talker's name, the lock: waits its turn under load)",
    "handle": "App.handle: capture, classifier, tickets, send queue, SQLite commits",
    "send": "App.handle returns -> name lookup, MessageSendText RPC -> Node reports it sent",
    "all_sends": "total until every send of the message is done (staff notes too)",
}


def latency_phase(server: PuppetServer, start: int, count: int, prefix: str) -> list[Sent]:
    """One message at a time: send, wait for its reply, next."""
    sents: list[Sent] = []
    for i in range(start, start + count):
        sender = RESIDENTS[i % len(RESIDENTS)][0]
        text, mentions = mix(i)
        sent = server.say(f"{prefix}-{i}", sender, text, mentions)
        if not server.wait(lambda: sent.t1 is not None, REPLY_TIMEOUT):  # noqa: B023 (waited here)
            server.forget([sent])
        sents.append(sent)
    return sents


def throughput_phase(server: PuppetServer, start: int, count: int, window: int) -> list[Sent]:
    """As fast as the bot answers, with at most `window` messages unanswered at once."""
    sents: list[Sent] = []
    for i in range(start, start + count):
        if not server.wait(lambda: server.unanswered() < window, REPLY_TIMEOUT):
            server.forget([s for s in sents if s.t1 is None])  # stuck: count them missing, go on
        sender = RESIDENTS[i % len(RESIDENTS)][0]
        text, mentions = mix(i)
        sents.append(server.say(f"rate-{i}", sender, text, mentions))
    server.wait(lambda: server.unanswered() == 0, REPLY_TIMEOUT)
    server.forget([s for s in sents if s.t1 is None])
    return sents


def throughput(sents: list[Sent]) -> dict[str, Any]:
    answered = sorted(s.t1 for s in sents if s.t1 is not None)
    if len(answered) < 2:
        return {}
    first_sent = min(s.t0 for s in sents)
    elapsed = answered[-1] - first_sent
    lo, hi = int(len(answered) * 0.1), int(len(answered) * 0.9) - 1  # steady state: 10 % .. 90 % of replies
    steady = (hi - lo) / (answered[hi] - answered[lo]) if answered[hi] > answered[lo] else float("nan")
    marks = [first_sent] + [answered[len(answered) * k // 5 - 1] for k in range(1, 6)]
    fifths = [
        round((len(answered) * (k + 1) // 5 - len(answered) * k // 5) / (marks[k + 1] - marks[k]), 1)
        if marks[k + 1] > marks[k]
        else float("nan")
        for k in range(5)
    ]
    return {
        "messages": len(sents),
        "replies": len(answered),
        "messages_per_s_by_fifth": fifths,
        "seconds": round(elapsed, 3),
        "messages_per_s": round(len(answered) / elapsed, 2),
        "steady_messages_per_s": round(steady, 2),
    }


def kinds(sents: list[Sent]) -> dict[str, int]:
    """How many replies of each kind."""
    counts: dict[str, int] = {}
    for s in sents:
        kind = reply_kind(s)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def median_by_kind(sents: list[Sent]) -> dict[str, float]:
    """Median latency (ms) per kind of reply."""
    by_kind: dict[str, list[float]] = {}
    for s in sents:
        if s.t1 is not None:
            by_kind.setdefault(reply_kind(s), []).append((s.t1 - s.t0) * 1000)
    return {k: round(statistics.median(v), 2) for k, v in sorted(by_kind.items())}


def reply_kind(s: Sent) -> str:
    """What the reply was, roughly: a check that the mix did what it says."""
    body = s.reply.split(SEPARATOR, 1)[-1]
    if s.t1 is None:
        return "no reply"
    for kind, matches in REPLY_KINDS:
        if matches(body):
            return kind
    return "other"


REPLY_KINDS: list[tuple[str, Callable[[str], bool]]] = [
    ("help", lambda b: b.startswith("小棲能帮您做这些")),
    ("new ticket", lambda b: "已登记为" in b),
    ("joined a neighbour's ticket", lambda b: "已有邻居反映过" in b),
    ("added to own ticket", lambda b: "补充" in b),
    ("asked to confirm a petition", lambda b: b.startswith("您是想反映")),
    ("progress: none yet", lambda b: b.startswith("没有找到您反映过的问题")),
    ("progress", lambda b: "号" in b and ("办结" in b or "签收" in b)),
]


# --- the run ------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    from bot.transport.wechaty import WechatyTransport
    from core.db import session_scope
    from core.settings import Settings
    from groups.registry import load_registry
    from nlp import default_model
    from xiaoqi.wiring import Mode, create_app

    result: dict[str, Any] = {"bench": "wechat", "machine": machine()}
    m = result["machine"]
    say("## Machine")
    say(f"  CPU: {m['cpu']}; cores: {m['cpus']}; {m['platform']}; load average {m['load_average_1min']}")
    say(
        f"  Python {m['python']}; Node {m['node']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    )

    ensure_node_modules(say)
    cache_dir = Path(args.cache_dir) if args.cache_dir else Settings().cache_dir
    t = time.perf_counter()
    classifier = default_model(REPO / "data", cache_dir)
    result["classifier_load_s"] = round(time.perf_counter() - t, 2)

    with tempfile.TemporaryDirectory(prefix="xiaoqi-wechat-bench-") as tmp:
        workdir = Path(tmp)
        settings, changed = generous_settings(
            Settings(
                database_url=f"sqlite:///{workdir / 'xiaoqi.db'}", data_dir=REPO / "data", cache_dir=cache_dir
            )
        )
        result["send_limits_raised"] = changed
        app = create_app(settings, Mode.LIVE, classifier=classifier)  # as `xiaoqi run`: claimed, then settled
        result["live_delivery"] = True
        with session_scope(app.engine) as session:
            load_registry(session, REGISTRY)
        say("\n## Set-up")
        say(f"  default classifier loaded in {result['classifier_load_s']} s (cache {cache_dir})")
        say(f"  fresh SQLite database in {workdir}; registry {REGISTRY.relative_to(REPO)}")
        if changed:
            say(
                f"  send limits raised ({', '.join(changed)}): the bench measures the pipeline, not the limiter"
            )
        else:
            say("  no send limits in Settings")
        if result["live_delivery"]:
            say(
                "  live delivery, as under `xiaoqi run`: replies go through the send queue and are settled once sent"
            )

        server = PuppetServer(workdir)
        transport = None
        try:
            probe = Probe()
            transport = WechatyTransport(
                app, f"127.0.0.1:{server.port}", server.token, on_handled=probe.on_handled
            )
            probe.wrap(app, transport)
            t = time.perf_counter()
            await asyncio.wait_for(transport.start(timeout=60), 90)
            say(
                f"  puppet service on 127.0.0.1:{server.port}; logged in as {transport.self_id} in "
                f"{time.perf_counter() - t:.2f} s"
            )

            n, window = args.messages, args.window
            say(f"\n## Warm-up: {WARMUP} messages (not counted)")
            warm = await asyncio.to_thread(latency_phase, server, 0, WARMUP, "warm")
            result["warmup_replies"] = sum(s.t1 is not None for s in warm)

            say(f"\n## 1. Latency: {n} messages, one at a time (say command -> reply reported by the server)")
            cpu = (cpu_seconds(), cpu_seconds(server.process.pid))
            t = time.perf_counter()
            sequential = await asyncio.to_thread(latency_phase, server, WARMUP, n, "lat")
            wall = time.perf_counter() - t
            latency = summary_ms([s.t1 - s.t0 for s in sequential if s.t1 is not None])
            result["latency"] = {
                **latency,
                "messages": n,
                "missing": sum(s.t1 is None for s in sequential),
                "seconds": round(wall, 2),
                "python_cpu_s": round(cpu_seconds() - cpu[0], 2),
                "node_cpu_s": round(cpu_seconds(server.process.pid) - cpu[1], 2),
                "stages_median_ms": breakdown(sequential, probe),
                "reply_kinds": kinds(sequential),
                "median_ms_by_kind": median_by_kind(sequential),
                "app_handle_s": handle_seconds(sequential, probe),
            }
            report_latency(result["latency"], say)

            say(f"\n## 2. Throughput: {n} messages, at most {window} unanswered at once")
            cpu = (cpu_seconds(), cpu_seconds(server.process.pid))
            burst = await asyncio.to_thread(throughput_phase, server, WARMUP + n, n, window)
            rate = throughput(burst)
            loaded = summary_ms([s.t1 - s.t0 for s in burst if s.t1 is not None])
            result["throughput"] = {
                **rate,
                "window": window,
                "missing": sum(s.t1 is None for s in burst),
                "python_cpu_s": round(cpu_seconds() - cpu[0], 2),
                "node_cpu_s": round(cpu_seconds(server.process.pid) - cpu[1], 2),
                "latency_under_load": loaded,
                "stages_median_ms": breakdown(burst, probe),
                "reply_kinds": kinds(burst),
                "app_handle_s": handle_seconds(burst, probe),
            }
            report_throughput(result["throughput"], say)
            result["other_sends"] = server.other_sent
            result["server_errors"] = server.errors
        finally:
            if transport is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(transport.stop(), 30)
            server.close()
            app.engine.dispose()
    return result


def report_latency(r: dict[str, Any], say: Callable[[str], None]) -> None:
    say(
        f"  median {r.get('median_ms')} ms, p90 {r.get('p90_ms')} ms, p99 {r.get('p99_ms')} ms, "
        f"max {r.get('max_ms')} ms (mean {r.get('mean_ms')} ms); {r['missing']} without a reply"
    )
    say(
        f"  {r['messages']} messages in {r['seconds']} s; CPU: Python {r['python_cpu_s']} s, "
        f"Node {r['node_cpu_s']} s; inside App.handle {r['app_handle_s']} s"
    )
    say(f"  replies: {json.dumps(r['reply_kinds'], ensure_ascii=False)}")
    say(f"  median ms by reply: {json.dumps(r['median_ms_by_kind'], ensure_ascii=False)}")
    report_stages(r["stages_median_ms"], say)


def report_throughput(r: dict[str, Any], say: Callable[[str], None]) -> None:
    say(
        f"  {r.get('replies')} replies to {r.get('messages')} messages in {r.get('seconds')} s: "
        f"{r.get('messages_per_s')} messages/s overall, {r.get('steady_messages_per_s')} messages/s "
        f"steady (10-90 % of replies); {r['missing']} without a reply"
    )
    say(f"  messages/s in each fifth of the run: {r.get('messages_per_s_by_fifth')}")
    loaded = r["latency_under_load"]
    say(
        f"  latency under load: median {loaded.get('median_ms')} ms, p99 {loaded.get('p99_ms')} ms, "
        f"max {loaded.get('max_ms')} ms (waiting behind the window included)"
    )
    say(
        f"  CPU: Python {r['python_cpu_s']} s, Node {r['node_cpu_s']} s; inside App.handle "
        f"{r['app_handle_s']} s of {r.get('seconds')} s (the bot handles one message at a time)"
    )
    say(f"  replies: {json.dumps(r['reply_kinds'], ensure_ascii=False)}")
    report_stages(r["stages_median_ms"], say)


def report_stages(stages: dict[str, float], say: Callable[[str], None]) -> None:
    say("  where the time goes (medians):")
    for key, label in STAGES.items():
        if key in stages:
            say(f"    {stages[key]:8.2f} ms  {label}")


def finite(value: Any) -> Any:
    """NaN as null, so the JSON line is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--messages", type=int, default=600, help="messages per phase (default 600)")
    parser.add_argument("--window", type=int, default=16, help="unanswered messages at most (default 16)")
    parser.add_argument(
        "--cache-dir", help="where the default model is cached (default: Settings().cache_dir)"
    )
    parser.add_argument("--json-only", action="store_true", help="print only the final JSON line")
    args = parser.parse_args()
    if args.messages < 1 or args.window < 1:
        parser.error("--messages and --window must be at least 1")

    def say(line: str) -> None:
        if not args.json_only:
            print(line, flush=True)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # python-wechaty's loggers log at INFO to stderr unless told otherwise; some are created only on
    # connect (PuppetService, wechaty.plugin), after the transport has set up the others
    os.environ.setdefault("WECHATY_LOG", "error")
    start = time.perf_counter()
    result = asyncio.run(run(args, say))
    result["total_s"] = round(time.perf_counter() - start, 2)
    say(
        f"\nserver errors: {result['server_errors'] or 'none'}; other sends (staff notes): {result['other_sends']}"
    )
    say(f"total {result['total_s']} s\n")
    print(json.dumps(finite(result), ensure_ascii=False, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
