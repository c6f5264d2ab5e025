"""Chinese wording of the report: numbers, 环比/同比 phrases, the summary paragraph and the leaders' message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports.figures import Compared

if TYPE_CHECKING:
    from reports.build import MonthlyReport


def count(n: float) -> str:
    """1234 -> '1,234'; 351234 -> '35.1万'."""
    return f"{n / 10_000:.1f}万" if n >= 100_000 else f"{round(n):,}"


def pct(share: float | None, digits: int = 1) -> str:
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 小时" if value < 48 else f"{value / 24:.1f} 天"


def _relative(change: float | None, word: str) -> str:
    if change is None:
        return ""
    if abs(change) < 0.0005:
        return f"{word}持平"
    return f"{word}{'上升' if change > 0 else '下降'} {abs(change) * 100:.1f}%"


def changes(value: Compared) -> str:
    """'环比上升 3.2%，同比下降 1.0%' (each part only when its base month has data)."""
    return "，".join(p for p in (_relative(value.mom, "环比"), _relative(value.yoy, "同比")) if p)


def _points(now: float, base: float | None, word: str) -> str:
    if base is None:
        return ""
    diff = (now - base) * 100
    if abs(diff) < 0.05:
        return f"{word}持平"
    return f"{word}{'提高' if diff > 0 else '降低'} {abs(diff):.1f} 个百分点"


def point_changes(value: Compared) -> str:
    """For rates: '环比提高 2.1 个百分点'."""
    parts = (_points(value.value, value.previous, "环比"), _points(value.value, value.last_year, "同比"))
    return "，".join(p for p in parts if p)


def _with(text: str) -> str:
    return f"，{text}" if text else ""


def summary_paragraph(report: MonthlyReport) -> str:
    m, t, c = report.messages, report.tickets, report.consult
    parts = [
        f"{report.month.label}，{report.scope.name} {count(m.groups_total)} 个居民群中 {count(m.groups_active)} 个活跃，"
        f"{count(m.speakers)} 人发言，共产生消息 {count(m.total.value)} 条{_with(changes(m.total))}。"
    ]
    petitions = f"其中诉求 {count(m.petitions.value)} 条（占 {pct(m.petitions.value / m.total.value if m.total.value else None)}）"
    parts.append(petitions + _with(changes(m.petitions)) + "。")
    top = m.categories[:3]
    if top:
        parts.append(
            "居民反映最集中的是" + "、".join(f"{x.label}（{count(x.count)} 条）" for x in top) + "。"
        )
    if t.total.value:
        parts.append(
            f"登记工单 {count(t.total.value)} 件{_with(changes(t.total))}，办结率 {pct(t.resolution_rate.value)}"
            f"{_with(point_changes(t.resolution_rate))}，按时办结率 {pct(t.on_time_rate)}，"
            f"满意率 {pct(t.satisfaction_rate)}，平均办理用时 {hours(t.avg_hours_to_resolve)}"
            + (f"；{t.overdue_total} 件超期未办结" if t.overdue_total else "")
            + "。"
        )
    else:
        parts.append("本月没有登记工单。")
    parts.append(f"负面情绪占比 {pct(m.negative_share.value)}{_with(point_changes(m.negative_share))}。")
    if report.topics.topics:
        hot = report.topics.topics[0]
        parts.append(
            f"最大热点为“{'、'.join(hot.keywords)}”，{hot.residents} 位居民在 {hot.groups} 个群里提及。"
        )
    if c.held:
        parts.append(f"开展协商议事 {c.held} 次，平均参与率 {pct(c.mean_turnout)}。")
    high = [w for w in report.warnings if w.level == "高"]
    if report.warnings:
        parts.append(
            f"本月预警 {len(report.warnings)} 条"
            + (
                f"，其中高等级 {len(high)} 条：{'；'.join(f'{w.kind}·{w.subject}' for w in high[:3])}"
                if high
                else ""
            )
            + "，请重点关注。"
        )
    else:
        parts.append("本月无预警。")
    return "".join(parts)


def leader_message(report: MonthlyReport) -> str:
    """The short text that goes with the PDF to every leader."""
    m, t = report.messages, report.tickets
    lines = [
        f"【民情月报】{report.scope.name} {report.month.label}",
        f"群消息 {count(m.total.value)} 条{_with(changes(m.total))}；诉求 {count(m.petitions.value)} 条。",
        f"工单 {count(t.total.value)} 件，办结率 {pct(t.resolution_rate.value)}，满意率 {pct(t.satisfaction_rate)}。",
    ]
    if report.warnings:
        first = report.warnings[0]
        lines.append(f"预警 {len(report.warnings)} 条，首要：{first.kind}·{first.subject}。")
    lines.append("完整月报见附件 PDF。")
    return "\n".join(lines)
