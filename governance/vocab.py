"""The governance vocabularies: one catalogue of codes with their zh/en labels and accepted aliases.

Every code stored in the database (``staff_assignments.role``, ``incidents.status``,
``incidents.disposition``, ``incidents.category``, ``households.special_kinds``) is defined here
once, with the label the app shows in each language and the other words an import file may use
for it. Imports parse with :meth:`Vocabulary.parse`, pages and files show :meth:`Vocabulary.label`,
the database's CHECK constraints are built from :attr:`Vocabulary.codes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Term",
    "Vocabulary",
    "STAFF_ROLE_TERMS",
    "INCIDENT_STATUS_TERMS",
    "DISPOSITION_TERMS",
    "SPECIAL_KIND_TERMS",
    "INCIDENT_CATEGORY_TERMS",
    "VISIT_KIND_TERMS",
    "STAFF_ROLES",
    "TEAM_ROLES",
    "INCIDENT_STATUSES",
    "TERMINAL_STATUSES",
    "OPEN_EXCLUDED_STATUSES",
    "DISPOSITIONS",
    "SPECIAL_KINDS",
    "INCIDENT_CATEGORIES",
    "VISIT_KINDS",
    "VOCABULARIES",
]

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Term:
    """One code with its Chinese and English label and the other words that name it."""

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


class Vocabulary:
    """An ordered set of :class:`Term` (the order is the display order)."""

    def __init__(self, name: str, terms: tuple[Term, ...]) -> None:
        self.name = name
        self.terms = terms
        self._by_code = {t.code: t for t in terms}
        lookup: dict[str, str] = {}
        for term in terms:
            for word in (term.code, term.zh, term.en, *term.aliases):
                key = _key(word)
                if lookup.get(key, term.code) != term.code:
                    raise ValueError(f"{name}: {word!r} names both {lookup[key]} and {term.code}")
                lookup[key] = term.code
        self._lookup = lookup

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.terms)

    def term(self, code: str) -> Term:
        return self._by_code[code]

    def label(self, code: str | None, language: str = "zh") -> str:
        """The label of ``code`` in ``language``; a code outside the catalogue is shown as it is."""
        if code is None:
            return ""
        term = self._by_code.get(code)
        return term.label(language) if term else str(code)

    def labels(self, language: str = "zh") -> dict[str, str]:
        return {t.code: t.label(language) for t in self.terms}

    def parse(self, text: object) -> str | None:
        """The code named by ``text`` (a code, a zh/en label or an alias, any case); ``None`` if unknown."""
        if text is None:
            return None
        return self._lookup.get(_key(str(text)))

    def accepted(self) -> str:
        """The accepted words for an error message: ``micro_worker (微网格员, Micro-grid worker), …``."""
        return ", ".join(f"{t.code} ({t.zh}, {t.en})" for t in self.terms)


STAFF_ROLE_TERMS = Vocabulary(
    "staff role",
    (
        Term("liaison_leader", "包联领导", "Liaison leader", ("包片领导", "联系领导", "挂点领导", "包联干部")),
        Term("grid_head", "网格长", "Grid head", ("网格负责人",)),
        Term("micro_worker", "微网格员", "Micro-grid worker",
             ("网格员", "专职网格员", "兼职网格员", "Grid worker", "Worker")),
        Term("grid_police", "网格民警", "Grid police officer", ("网格警", "社区民警", "民警", "Grid police", "Police")),
        Term("family_doctor", "家庭医生", "Family doctor", ("医生", "签约医生", "Doctor")),
        Term("supervisor", "网格督导员", "Supervisor", ("网格监督员", "督导员", "监督员", "网格督导")),
        Term("coordinator", "网格协调员", "Coordinator", ("协调员", "联络员", "网格联络员")),
        Term("building_head", "楼栋长", "Building head", ("单元长", "楼长")),
    ),
)
#: The "one grid, five roles" team every micro-grid needs.
TEAM_ROLES = ("micro_worker", "grid_police", "family_doctor", "supervisor", "coordinator")

INCIDENT_STATUS_TERMS = Vocabulary(
    "incident status",
    (
        Term("reported", "已上报", "Reported", ("上报", "待受理", "新建")),
        Term("accepted", "已受理", "Accepted", ("受理",)),
        Term("rejected", "不予受理", "Rejected", ("驳回", "已驳回")),
        Term("classified", "已分类", "Classified", ("分类", "研判")),
        Term("dispatched", "已派遣", "Dispatched", ("派遣", "处理中", "办理中", "in progress")),
        Term("handled", "已处置", "Handled", ("处置", "已处理")),
        Term("closed", "已办结", "Closed", ("办结", "结案", "已完成", "完成")),
    ),
)
#: Statuses that end the loop: an incident in neither is open (unresolved).
TERMINAL_STATUSES = ("closed", "rejected")
OPEN_EXCLUDED_STATUSES = TERMINAL_STATUSES

DISPOSITION_TERMS = Vocabulary(
    "disposition",
    (
        Term("solve_now", "即时解决", "Solve now", ("即知即办", "立即办理", "当场解决")),
        Term("research_assign", "研究交办", "Research and assign", ("研判交办", "交办")),
        Term("explain_respond", "解释回应", "Explain and respond", ("解释答复", "答复")),
    ),
)

SPECIAL_KIND_TERMS = Vocabulary(
    "special household kind",
    (
        Term("empty_nest", "空巢老人", "Empty-nest elderly", ("空巢", "独居老人", "孤寡老人", "失独家庭")),
        Term("disabled", "残疾人", "Disabled", ("残疾", "残障", "残疾人家庭")),
        Term("left_behind_child", "留守儿童", "Left-behind child", ("留守",)),
        Term("hardship", "困难家庭", "Hardship", ("困难", "低保", "低保户", "特困", "特困户", "优抚")),
    ),
)
#: Substrings that mark a special kind inside a free-text 特殊人群 value (import files).
SPECIAL_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "empty_nest": ("empty_nest", "空巢", "独居", "孤寡", "失独"),
    "disabled": ("disabled", "残疾", "残障"),
    "left_behind_child": ("left_behind_child", "留守"),
    "hardship": ("hardship", "困难", "低保", "特困", "优抚"),
}

INCIDENT_CATEGORY_TERMS = Vocabulary(
    "incident category",
    (
        Term("sanitation", "环境卫生", "Sanitation", ("卫生", "垃圾")),
        Term("dispute", "矛盾纠纷", "Dispute", ("纠纷", "邻里纠纷")),
        Term("safety_hazard", "安全隐患", "Safety hazard", ("隐患", "消防隐患")),
        Term("illegal_construction", "违章建筑", "Illegal construction", ("违建", "违法建设")),
        Term("municipal", "市政设施", "Municipal facilities", ("市政",)),
        Term("public_order", "治安问题", "Public order", ("治安",)),
        Term("livelihood", "民生服务", "Livelihood services", ("民生", "民生诉求")),
    ),
)

VISIT_KIND_TERMS = Vocabulary(
    "visit kind",
    (
        Term("routine", "日常走访", "Routine", ("日常",)),
        Term("special", "特殊户关爱", "Special care", ("special_care", "特殊户走访", "特殊人群走访")),
        Term("data_refresh", "信息核实更新", "Data refresh", ("信息核查", "核查", "数据更新")),
        Term("incident_followup", "事件回访", "Incident follow-up", ("回访", "follow up")),
        Term("policy_outreach", "政策宣传", "Policy outreach", ("宣传",)),
    ),
)

STAFF_ROLES = STAFF_ROLE_TERMS.codes
INCIDENT_STATUSES = INCIDENT_STATUS_TERMS.codes
DISPOSITIONS = DISPOSITION_TERMS.codes
SPECIAL_KINDS = SPECIAL_KIND_TERMS.codes
INCIDENT_CATEGORIES = INCIDENT_CATEGORY_TERMS.codes
VISIT_KINDS = VISIT_KIND_TERMS.codes

#: Every vocabulary by the i18n prefix its labels are shown under (``role.micro_worker``).
VOCABULARIES: dict[str, Vocabulary] = {
    "role": STAFF_ROLE_TERMS,
    "status": INCIDENT_STATUS_TERMS,
    "disposition": DISPOSITION_TERMS,
    "special": SPECIAL_KIND_TERMS,
    "category": INCIDENT_CATEGORY_TERMS,
    "visit_kind": VISIT_KIND_TERMS,
}
