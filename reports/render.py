"""Render the report: one self-contained HTML file (charts and a font subset inline), and a PDF of it.

The HTML carries a WOFF2 subset of Noto Sans CJK SC with exactly the characters it uses, so any browser
shows it without missing glyphs. The PDF is made from the same HTML by WeasyPrint, with the full Noto Sans
CJK collection from pip's noto-cjk-sans-otc as @font-face (the same font the charts use), lang="zh-CN" for
Simplified glyph forms, page numbers in the footer and a table of contents with target-counter().
"""

from __future__ import annotations

import base64
import io
import logging
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports import charts
from reports.build import MonthlyReport
from reports.texts import changes, count, hours, pct, point_changes, summary_paragraph

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT_FAMILY = "Xiaoqi CJK"
FONT_MARKER = "/*@font-face*/"
SC_FACE = 2  # Noto Sans CJK SC in the collection
SECTION_TITLES = (
    "一、本月概况",
    "二、预警提示",
    "三、热点问题",
    "四、工单办理",
    "五、群消息与活跃度",
    "六、诉求类别",
    "七、居民情绪",
    "八、协商议事",
    "九、典型案例",
    "附表：各社区民情数据",
)
TOP_COMMUNITIES = 15


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(count=count, pct=pct, hours=hours, changes=changes, point_changes=point_changes)
    return env


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _charts(report: MonthlyReport) -> dict[str, str]:
    m = report.messages
    days = [f"{d.day}日" for d, _ in m.by_day]
    out = {
        "daily": charts.daily_chart(days, [n for _, n in m.by_day], [n for _, n in m.petitions_by_day]),
        "heatmap": charts.heatmap_chart(m.heatmap),
    }
    top = m.categories[:10]
    if top:
        before = [x.previous or 0 for x in top] if m.previous_exists else None
        out["categories"] = charts.compare_chart([x.label for x in top], [x.count for x in top], before)
    if any(sum(v.values()) for _, v in m.sentiment_by_day):
        out["sentiment"] = charts.sentiment_chart(
            days, {s: [v[s] for _, v in m.sentiment_by_day] for s in ("正面", "中性", "负面")}
        )
    rows = [c for c in m.communities if c.negative_share is not None and c.labelled >= 20]
    rows.sort(key=lambda c: (-(c.negative_share or 0), c.name))
    if rows:
        shown = rows[:TOP_COMMUNITIES]
        out["negative"] = charts.share_chart(
            [c.name for c in shown], [c.negative_share or 0.0 for c in shown], m.negative_share.value
        )
    return {k: _data_uri(v) for k, v in out.items()}


def _appendix(report: MonthlyReport) -> list[dict[str, Any]]:
    rows = []
    for c in report.messages.communities:
        t = report.tickets.community_rows.get(c.id)
        rows.append(
            {
                "street": c.street,
                "name": c.name,
                "groups": f"{c.groups_active}/{c.groups_total}",
                "speakers": c.speakers,
                "messages": c.messages,
                "petitions": c.petitions,
                "negative": c.negative_share,
                "tickets": t.total if t else 0,
                "resolution": t.resolution_rate if t else None,
                "satisfaction": t.satisfaction_rate if t else None,
            }
        )
    return rows


def _font_subset_css(text: str) -> str:
    """@font-face with a WOFF2 subset of Noto Sans CJK SC holding every character of `text`."""
    from fontTools import subset
    from noto_cjk_sans_otc import FONT_PATH

    options = subset.Options()
    options.flavor = "woff2"
    options.font_number = SC_FACE
    options.name_IDs = ["*"]
    font = subset.load_font(str(FONT_PATH), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted({ch for ch in text if not ch.isspace()})) + "0123456789")
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url(data:font/woff2;base64,{data}) format("woff2"); }}'


def render_template(report: MonthlyReport) -> str:
    """The report as one HTML document with FONT_MARKER where the @font-face goes; all values escaped."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=report,
        m=report.messages,
        t=report.tickets,
        c=report.consult,
        summary=summary_paragraph(report),
        charts=_charts(report),
        titles=SECTION_TITLES,
        appendix=_appendix(report),
        names=report.community_names,
        font_family=FONT_FAMILY,
        font_marker=FONT_MARKER,
    )


def browser_html(document: str) -> str:
    """For report.html: the font subset inline, so the file is complete on its own."""
    return document.replace(FONT_MARKER, _font_subset_css(document), 1)


def print_html(document: str) -> str:
    """For the PDF: the full Noto Sans CJK collection file (the charts' font) by URL; WeasyPrint subsets it."""
    from noto_cjk_sans_otc import FONT_PATH

    face = f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{Path(FONT_PATH).as_uri()}"); }}'
    return document.replace(FONT_MARKER, face, 1)


def write_pdf(document: str, path: Path) -> Path:
    """The PDF of the report's HTML (from `print_html`), by WeasyPrint."""
    from weasyprint import HTML

    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    HTML(string=document, base_url=str(path.parent)).write_pdf(path)
    return path
