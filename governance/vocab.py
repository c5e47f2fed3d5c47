"""The governance vocabularies: one catalogue of codes with their zh/en labels and accepted aliases.

Every code stored in the database (``staff_assignments.role``, ``incidents.status``,
``incidents.disposition``, ``incidents.category``, ``households.special_kinds``, and the codes of
the street's other practices: evaluation questions, grades, spot-check outcomes and methods,
notice kinds, camera types and statuses, completeness rules …) is defined here once, with the label the app shows in each language and the other words an import file may use
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
    "EVALUATION_QUESTION_TERMS",
    "SCORED_QUESTIONS",
    "GRADE_TERMS",
    "GRADES",
    "ASSESSMENT_COMPONENT_TERMS",
    "SPOT_CHECK_OUTCOME_TERMS",
    "SPOT_CHECK_OUTCOMES",
    "FAILED_OUTCOMES",
    "CHECK_METHOD_TERMS",
    "SAMPLE_REASON_TERMS",
    "TASK_STATUS_TERMS",
    "NOTICE_KIND_TERMS",
    "NOTICE_KINDS",
    "CAMERA_TYPE_TERMS",
    "CAMERA_STATUS_TERMS",
    "COMPLETENESS_RULE_TERMS",
    "VERIFICATION_STATUS_TERMS",
    "PUBLIC_STEP_TERMS",
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

# -- resident evaluation (民主测评), governance.evaluation ---------------------------------------
EVALUATION_QUESTION_TERMS = Vocabulary(
    "evaluation question",
    (
        Term("service", "服务满意度", "Satisfaction with the service"),
        Term("responsiveness", "响应及时性", "Responsiveness"),
        Term("resolution", "问题解决情况", "Problems resolved"),
        Term("knows_worker", "知晓网格员", "Knows the grid worker", ("知晓率",)),
        Term("comment", "意见建议", "Comments and suggestions"),
    ),
)
#: The questions answered on a 1–5 scale (1 very dissatisfied … 5 very satisfied).
SCORED_QUESTIONS = ("service", "responsiveness", "resolution")

# -- three-in-one assessment (三合一考核), governance.three_in_one -----------------------------------
GRADE_TERMS = Vocabulary(
    "grade",
    (
        Term("excellent", "优秀", "Excellent"),
        Term("qualified", "合格", "Qualified", ("称职",)),
        Term("basic", "基本合格", "Basically qualified", ("基本称职",)),
        Term("unqualified", "不合格", "Unqualified", ("不称职",)),
    ),
)
GRADES = GRADE_TERMS.codes

ASSESSMENT_COMPONENT_TERMS = Vocabulary(
    "assessment component",
    (
        Term("daily_points", "日常积分", "Daily points"),
        Term("evaluation", "群众评价", "Residents' evaluation", ("民主测评",)),
        Term("leader_rating", "领导评价", "Leader's rating", ("领导综合评价",)),
        Term("spot_check", "督查扣分", "Spot-check deduction", ("督查",)),
    ),
)

# -- supervision spot checks (督查), governance.spotcheck -------------------------------------------
SPOT_CHECK_OUTCOME_TERMS = Vocabulary(
    "spot-check outcome",
    (
        Term("confirmed", "走访属实", "Confirmed", ("属实", "已核实")),
        Term("not_visited", "群众反映未走访", "Resident says not visited", ("未走访", "未入户")),
        Term("details_wrong", "记录情况不符", "Details wrong", ("情况不符", "信息有误", "记录不实")),
        Term("unreachable", "无法联系", "Unreachable", ("联系不上", "无人接听", "无人在家")),
    ),
)
SPOT_CHECK_OUTCOMES = SPOT_CHECK_OUTCOME_TERMS.codes
#: Outcomes that count as a failed check (``unreachable`` is inconclusive, neither pass nor fail).
FAILED_OUTCOMES = ("not_visited", "details_wrong")

CHECK_METHOD_TERMS = Vocabulary(
    "check method",
    (
        Term("phone", "电话回访", "Phone call", ("电话", "电话核查")),
        Term("door", "入户核查", "At the door", ("入户", "上门", "实地核查")),
    ),
)

SAMPLE_REASON_TERMS = Vocabulary(
    "spot-check sample reason",
    (
        Term("random", "随机抽查", "Random draw"),
        Term("special_due", "特殊户必查", "Special household (always checked)"),
    ),
)

TASK_STATUS_TERMS = Vocabulary(
    "task status",
    (
        Term("open", "待办", "Open", ("未完成",)),
        Term("done", "已完成", "Done", ("完成",)),
    ),
)

# -- notices (信息推送), governance.notices ----------------------------------------------------------
NOTICE_KIND_TERMS = Vocabulary(
    "notice kind",
    (
        Term("policy", "政策宣传", "Policy", ("政策", "政策解读")),
        Term("police_alert", "警情通报", "Police alert", ("警情", "警示")),
        Term("public_safety", "公共安全", "Public safety", ("安全提示", "安全")),
        Term("jobs", "就业信息", "Jobs", ("招聘", "就业", "招工")),
        Term("street_work", "街道工作", "Street work", ("工作通知", "工作安排")),
    ),
)
NOTICE_KINDS = NOTICE_KIND_TERMS.codes

# -- cameras (雪亮工程), governance.cameras -----------------------------------------------------------
CAMERA_TYPE_TERMS = Vocabulary(
    "camera type",
    (
        Term("bullet", "枪机", "Bullet camera", ("枪型", "枪式", "box")),
        Term("dome", "球机", "Dome (PTZ) camera", ("球型", "云台", "ptz", "高速球")),
        Term("hemisphere", "半球", "Hemispherical camera", ("半球型", "半球机")),
        Term("face", "人脸抓拍", "Face capture", ("人脸", "人脸识别")),
        Term("vehicle", "车辆卡口", "Vehicle checkpoint", ("卡口", "车辆识别", "车牌识别", "anpr")),
        Term("other", "其他", "Other"),
    ),
)
CAMERA_STATUS_TERMS = Vocabulary(
    "camera status",
    (
        Term("online", "在线", "Online", ("正常", "运行")),
        Term("offline", "离线", "Offline", ("掉线",)),
        Term("fault", "故障", "Fault", ("损坏", "坏")),
        Term("maintenance", "维护中", "Under maintenance", ("维修", "维修中", "检修")),
        Term("removed", "已拆除", "Removed", ("拆除", "停用")),
    ),
)

# -- data completeness and quarterly refresh, governance.completeness / governance.verification ----
COMPLETENESS_RULE_TERMS = Vocabulary(
    "completeness rule",
    (
        Term("household_no_residents", "住户无居民信息", "Household with no residents"),
        Term("missing_name", "缺少姓名", "Name missing"),
        Term("missing_id_number", "缺少身份证号", "ID number missing"),
        Term("missing_phone", "缺少联系电话", "Phone missing"),
        Term("missing_relation", "缺少与户主关系", "Relation to the head missing"),
        Term("id_malformed", "身份证号格式错误", "ID number malformed"),
        Term("id_check_digit", "身份证号校验码错误", "ID number check digit wrong"),
        Term("id_birth_date_invalid", "身份证号出生日期无效", "ID number birth date invalid"),
        Term("id_birth_mismatch", "出生日期与身份证号不符", "Birth date disagrees with the ID number"),
        Term("id_age_mismatch", "年龄与身份证号不符", "Age disagrees with the ID number"),
        Term("id_gender_mismatch", "性别与身份证号不符", "Gender disagrees with the ID number"),
        Term("category_age", "人群类别与年龄不符", "Category disagrees with the age"),
        Term("id_duplicate", "身份证号重复", "Same ID number on several records"),
        Term("address_no_household", "房屋无住户信息", "House (address) with no household"),
    ),
)
VERIFICATION_STATUS_TERMS = Vocabulary(
    "verification status",
    (
        Term("verified", "本季度已核实", "Verified this quarter"),
        Term("pending", "本季度待核实", "Due this quarter"),
        Term("overdue", "逾期未核实", "Overdue"),
    ),
)

# -- feedback to residents, governance.feedback ------------------------------------------------------
PUBLIC_STEP_TERMS = Vocabulary(
    "public incident step",
    (
        Term("received", "已收到", "Received"),
        Term("accepted", "已受理", "Accepted"),
        Term("in_progress", "办理中", "In progress"),
        Term("handled", "已处置", "Handled"),
        Term("closed", "已办结", "Closed"),
        Term("rejected", "不予受理", "Not accepted"),
    ),
)

#: Every vocabulary by the i18n prefix its labels are shown under (``role.micro_worker``).
VOCABULARIES: dict[str, Vocabulary] = {
    "role": STAFF_ROLE_TERMS,
    "status": INCIDENT_STATUS_TERMS,
    "disposition": DISPOSITION_TERMS,
    "special": SPECIAL_KIND_TERMS,
    "category": INCIDENT_CATEGORY_TERMS,
    "visit_kind": VISIT_KIND_TERMS,
    "eval_question": EVALUATION_QUESTION_TERMS,
    "grade": GRADE_TERMS,
    "assess_component": ASSESSMENT_COMPONENT_TERMS,
    "spot_outcome": SPOT_CHECK_OUTCOME_TERMS,
    "check_method": CHECK_METHOD_TERMS,
    "spot_reason": SAMPLE_REASON_TERMS,
    "task_status": TASK_STATUS_TERMS,
    "notice_kind": NOTICE_KIND_TERMS,
    "camera_type": CAMERA_TYPE_TERMS,
    "camera_status": CAMERA_STATUS_TERMS,
    "completeness": COMPLETENESS_RULE_TERMS,
    "verify_status": VERIFICATION_STATUS_TERMS,
    "public_step": PUBLIC_STEP_TERMS,
}
