"""What Xiaoqi posts for a matched matter: short, polite, plain Chinese for elderly readers."""

from __future__ import annotations

from faq.knowledge import Matter

# Longer replies scroll off a phone screen; details are one "要带什么" away.
MAX_ANSWER_CHARS = 180
DETAILS_HINT = "要带什么，回复“要带什么”查看。"


def _materials(matter: Matter) -> str:
    return "、".join(matter.materials)


def answer_text(matter: Matter) -> str:
    """The answer, plus the online route and what to bring when they still fit on one screen."""
    lines = [matter.answer]
    if matter.online:
        online = f"网上办：{matter.online}"
        if len("\n".join([*lines, online])) <= MAX_ANSWER_CHARS:
            lines.append(online)
    if matter.materials:
        materials = f"带上：{_materials(matter)}"
        if len("\n".join([*lines, materials])) <= MAX_ANSWER_CHARS:
            lines.append(materials)
        elif len("\n".join([*lines, DETAILS_HINT])) <= MAX_ANSWER_CHARS:
            lines.append(DETAILS_HINT)
    return "\n".join(lines)


def details_text(matter: Matter) -> str:
    """Everything the knowledge base says beyond the answer: for a follow-up "要带什么"."""
    lines = []
    if matter.materials:
        lines.append(f"要带的材料：{_materials(matter)}")
    else:
        lines.append("不用准备特别的材料。")
    if matter.where:
        lines.append(f"去哪办：{matter.where}")
    if matter.online:
        lines.append(f"网上办：{matter.online}")
    if matter.note:
        lines.append(f"提醒：{matter.note}")
    return "\n".join(lines)
