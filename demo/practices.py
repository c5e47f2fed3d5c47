"""What the demo street's people do with the practices of issue #17, planned from the seed and played
through the use cases (``services/``), never written around them.

:func:`plan_practices` (pure: frames in, a :class:`PracticePlan` out, no database, no clock) decides,
from the demo's seed:

* **one finished evaluation round (民主测评)** of the quarter before the demo's "today", over the whole
  street: the answers of about a third of the households (mostly satisfied, a few low scores, a few
  comments in Chinese), and a few quiet grids — the laggard workers' — with fewer than 5 responses,
  so suppression shows;
* **a quarter of spot checks (督查)**: a monthly draw for each of the three full months before the
  demo's month (2 visits per worker plus the due special households, each draw's seed recorded),
  the outcome of each checked item (mostly confirmed; a few "resident says not visited", "details
  wrong" or unreachable), and one worker of the first community who fails twice;
* **a dozen notices (信息推送)** of every kind, from the street leader, the admin and the grid heads,
  to grids or levels, some current and some expired, and which workers read them.

:func:`play_practices` plays the plan on the demo load's connection, in its transaction, as the
demo's accounts (:func:`services.auth.transaction_session`): the admin imports the cameras
(:func:`services.imports.load_rows`), the planner opens the round, issues the codes and closes it,
residents answer with the printed codes (:func:`services.evaluation.submit_response`), the inspector
draws and records (:mod:`services.spotchecks`), the first community's liaison leader marks the
earlier reminder talks done, and leaders, grid heads and workers publish and read notices
(:mod:`services.notices`). Units of work run without savepoints (:func:`store.session.inline_units`)
so every row carries the demo load's transaction id (:func:`store.seed.foreign_data`).

Two things follow from going through the use cases: the database accepts a response only while its
round is open by the database's clock, so the round is opened with its planned opening date and
closed when the demo is loaded (its ``closed_at`` is the load time); and reminder talks are created
and marked done at the load time (the services stamp them with the clock). Outcomes are recorded
with their planned ``checked_at`` dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = ["EvaluationPlan", "NoticePlan", "PracticePlan", "SpotCheckPlan", "plan_practices", "play_practices"]

_SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Share of a grid's households that answer (uniform between the two), and in the quiet grids.
_RESPONSE_RATE = (0.30, 0.42)
_QUIET_RATE = 0.15
#: At most this many responses in a quiet grid: under the default suppression threshold (5).
_QUIET_MAX = 4
#: Scores 5..1 and how often they are given, in ordinary grids and in the quiet (laggards') grids.
_SCORES = np.array([5, 4, 3, 2, 1])
_SCORE_P = np.array([0.56, 0.30, 0.08, 0.04, 0.02])
_QUIET_SCORE_P = np.array([0.22, 0.30, 0.26, 0.13, 0.09])

_GOOD_COMMENTS = (
    "网格员经常上门，有事打电话很快就来，非常满意。",
    "疫苗接种和医保缴费都是网格员提醒的，服务很贴心。",
    "楼道杂物清理得很及时，感谢网格员。",
    "老人独居，网格员每月都来看望，放心多了。",
    "反映的路灯问题一周就修好了。",
    "网格员态度好，办事认真负责。",
)
_LOW_COMMENTS = (
    "反映的噪音问题拖了很久没有回复。",
    "不知道我们这里的网格员是谁，希望公示一下联系方式。",
    "上门次数太少，有事找不到人。",
    "垃圾清运不及时，希望多督促。",
)
_MID_COMMENTS = (
    "总体还可以，希望停车问题能再管一管。",
    "建议多组织一些社区活动。",
)

#: Spot-check outcomes of a checked item and how often they occur (codes of the vocabulary).
_OUTCOMES = ("confirmed", "unreachable", "not_visited", "details_wrong")
_OUTCOME_P = np.array([0.91, 0.05, 0.025, 0.015])
_OUTCOME_NOTES = {
    "unreachable": ("电话三次无人接听", "上门两次家中无人", "电话号码已停机"),
    "not_visited": ("住户说本月无人上门", "住户表示网格员近两个月没来过", "住户称只在微信群里联系过"),
    "details_wrong": ("走访记录的家庭人数与实际不符", "住户说走访日期不对，当天不在家", "记录的联系电话不是本户的"),
}
_CONFIRMED_NOTES = ("", "", "", "住户确认网格员上门走访", "住户对走访表示满意")
_TALK_NOTES = (
    "已约谈，本人承认走访记录不实，要求如实记录并补访。",
    "已谈话提醒，要求按月走访重点户并当面核实信息。",
    "已谈话，指出问题，本人表示整改，下月复查。",
)
#: Share of the random and of the special households' due items the inspector checks in a month, and
#: of those in the last month (still being worked through).
_RANDOM_CHECKED = 0.45
_DUE_CHECKED = 0.05
_LAST_MONTH_CHECKED = 0.5
#: Workers (accounts) who open their home page and read notices.
_READERS = 30


@dataclass(frozen=True)
class EvaluationPlan:
    """The finished round: its period, window, grids, and every response.

    ``responses``: ``grid_code``, ``submitted_at`` (aware), ``service``, ``responsiveness``,
    ``resolution`` (1–5 or ``None``), ``knows_worker`` (bool), ``comment`` (text, may be empty).
    """

    title: str
    period: str
    grid_codes: tuple[str, ...]
    opens_at: dt.datetime
    closes_at: dt.datetime
    responses: pd.DataFrame
    quiet_grids: tuple[str, ...]


@dataclass(frozen=True)
class SpotCheckPlan:
    """Monthly draws (``months``, each with its recorded ``seeds``), ``per_worker``, the seed of the
    outcomes' generator, and the worker (staff key) who fails twice."""

    months: tuple[str, ...]
    seeds: tuple[int, ...]
    per_worker: int
    outcome_seed: int
    repeat_worker: str


@dataclass(frozen=True)
class NoticePlan:
    """One notice: who publishes it (account), what it says, where it goes, and who reads it."""

    publisher: str
    kind: str
    title: str
    body: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    grid_codes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    readers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PracticePlan:
    evaluation: EvaluationPlan
    spot_checks: SpotCheckPlan
    notices: tuple[NoticePlan, ...] = field(default=())


# ---------------------------------------------------------------------------------------
# planning (pure)
# ---------------------------------------------------------------------------------------
def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=_SHANGHAI)


def _office_times(rng: np.random.Generator, start: dt.datetime, end: dt.datetime, n: int) -> list[dt.datetime]:
    """``n`` sorted times between ``start`` and ``end`` on days between, 08:30–20:30 local."""
    days = max(1, (end.date() - start.date()).days)
    offsets = np.sort(rng.integers(0, days, n))
    minutes = rng.integers(8 * 60 + 30, 20 * 60 + 30, n)
    out = []
    for d, m in zip(offsets.tolist(), minutes.tolist(), strict=True):
        t = _local(start.date() + dt.timedelta(days=int(d))) + dt.timedelta(minutes=int(m))
        out.append(min(max(t, start), end - dt.timedelta(minutes=1)))
    return out


def _plan_evaluation(households: pd.DataFrame, quiet: set[str], level1: list[str], rng: np.random.Generator,
                     now: pd.Timestamp) -> EvaluationPlan:
    this_quarter = _quarter_start(now.date())
    last_quarter = _quarter_start(this_quarter - dt.timedelta(days=1))
    q = (last_quarter.month - 1) // 3 + 1
    today = now.to_pydatetime()
    closes = min(_local(this_quarter + dt.timedelta(days=31)), today - dt.timedelta(days=1))
    opens = min(_local(this_quarter + dt.timedelta(days=7), 9), closes - dt.timedelta(days=3))
    counts = households.groupby("grid_code").size().sort_index()
    rows: list[dict[str, Any]] = []
    for grid, n in counts.items():
        is_quiet = grid in quiet
        rate = _QUIET_RATE if is_quiet else rng.uniform(*_RESPONSE_RATE)
        answered = int(rng.binomial(int(n), rate))
        if is_quiet:
            answered = min(answered, _QUIET_MAX)
        p = _QUIET_SCORE_P if is_quiet else _SCORE_P
        times = _office_times(rng, opens, closes, answered)
        for at in times:
            base = int(rng.choice(_SCORES, p=p))
            service = base
            responsiveness = int(np.clip(base + rng.choice([-1, 0, 0, 0, 1]), 1, 5))
            resolution = None if rng.random() < 0.08 else int(np.clip(base + rng.choice([-1, 0, 0, 1]), 1, 5))
            knows = bool(rng.random() < (0.6 if is_quiet else 0.9))
            comment = ""
            if rng.random() < 0.12:
                pool = _GOOD_COMMENTS if base >= 4 else _LOW_COMMENTS if base <= 2 else _MID_COMMENTS
                comment = pool[int(rng.integers(0, len(pool)))]
            rows.append({"grid_code": str(grid), "submitted_at": at, "service": service,
                         "responsiveness": responsiveness, "resolution": resolution, "knows_worker": knows,
                         "comment": comment})
    responses = pd.DataFrame(rows, columns=["grid_code", "submitted_at", "service", "responsiveness", "resolution",
                                            "knows_worker", "comment"])
    return EvaluationPlan(
        title=f"{last_quarter.year}年第{'一二三四'[q - 1]}季度网格员民主测评", period=f"{last_quarter.year}-Q{q}",
        grid_codes=tuple(level1), opens_at=opens, closes_at=closes, responses=responses,
        quiet_grids=tuple(sorted(quiet)),
    )


def _plan_notices(level1: list[str], level2: list[str], workers: pd.DataFrame, rng: np.random.Generator,
                  now: pd.Timestamp) -> tuple[NoticePlan, ...]:
    """Twelve notices: (publisher, kind, title, body, days from now to the start, days valid, targets)."""
    n = now.to_pydatetime()
    c1, c2, c3, c4, v1, v2 = level1[:6]
    specs: list[tuple[str, str, str, str, int, int, tuple[str, ...], tuple[int, ...]]] = [
        ("leader", "policy", "2027年度城乡居民医保集中缴费通知",
         ("2027年度城乡居民基本医疗保险集中缴费期为即日起至12月31日，个人缴费标准按省市文件执行。"
         "请各网格员逐户告知，重点提醒低保、特困和重度残疾人员按规定享受资助参保。"), -20, 70, (), (3,)),
        ("admin", "street_work", "网格员季度信息核查工作安排",
         ("本季度房屋和人口信息核查按“不漏一户、不少一人、不错一项”要求开展，请于季度末前完成本网格全部住户的核实，"
         "并在系统中逐户确认。"), -45, 120, (), (3,)),
        ("leader", "public_safety", "冬季用电用火安全提示",
         "冬季取暖用电用火增多，请勿私拉乱接电线，电动车不得进楼道、入户充电。发现隐患请及时告知网格员或拨打119。",
         -8, 100, (), (2, 3)),
        ("head-001", "police_alert", "警惕冒充客服退款诈骗",
         ("近期辖区发生多起冒充电商客服以“退款”“理赔”为由诱导转账的诈骗案件。凡要求下载陌生软件、共享屏幕、"
         "转账到“安全账户”的，都是诈骗。如有疑问请拨打96110咨询。"), -6, 60, (c1,), ()),
        ("head-002", "jobs", "社区公益性岗位招聘",
         "擂鼓台社区招聘保洁、治安巡逻公益性岗位6名，面向辖区就业困难人员，有意者请携带身份证到社区服务中心报名。",
         -10, 40, (c2,), ()),
        ("head-005", "policy", "耕地地力保护补贴公示",
         "2026年度耕地地力保护补贴面积和金额已在村务公开栏公示，公示期7天，如有异议请向村委会反映。",
         -5, 30, (v1,), ()),
        ("head-003", "street_work", "老旧小区改造施工通知",
         "菱泊湖社区老旧小区改造工程将进行管网施工，施工期间部分路段临时封闭，请居民注意出行安全，车辆绕行。",
         -15, 75, tuple(c for c in level2 if c.startswith(c3))[:2], ()),
        ("leader", "police_alert", "国庆假期防范电信诈骗提醒",
         "节假日期间诈骗高发，请提醒家中老人不轻信陌生来电，不点击不明链接。", -60, 14, (), (3,)),
        ("head-004", "jobs", "秋季招聘会信息",
         "云溪区秋季人才招聘会将于本月在区人力资源市场举办，提供岗位300余个，欢迎有就业意愿的居民参加。",
         -75, 21, (c4,), ()),
        ("head-006", "public_safety", "汛期防汛安全提示",
         "汛期水位上涨，请勿在湖边垂钓、游泳，看管好未成年人。渔港码头作业请穿好救生衣。", -120, 60, (v2,), ()),
        ("admin", "policy", "第三季度高龄津贴发放公告",
         "第三季度高龄津贴已发放到账，请80周岁以上老人或家属注意查收，如未到账请联系网格员。", -85, 30, (), (1, 2, 3)),
        ("head-001", "street_work", "垃圾分类集中宣传周",
         "本周开展垃圾分类集中宣传，网格员将入户发放宣传资料和分类垃圾袋。", -100, 10, (c1,), ()),
    ]
    pool = workers.iloc[np.sort(rng.choice(len(workers), size=min(_READERS, len(workers)), replace=False))]
    worker_names = pool["name"].tolist()
    worker_grants = [tuple(g) for g in pool["grants"]]
    plans = []
    for publisher, kind, title, body, start_days, days, codes, levels in specs:
        start = n + dt.timedelta(days=start_days, hours=-int(rng.integers(0, 8)))
        end = start + dt.timedelta(days=days)
        read_p = 0.6 if end > n else 0.8
        readers = tuple(
            name for name, grants in zip(worker_names, worker_grants, strict=True)
            if (not codes or any(g.startswith(c) for g in grants for c in codes)) and rng.random() < read_p
        )
        plans.append(NoticePlan(publisher, kind, title, body, start, end, codes, levels, readers))
    return tuple(plans)


def plan_practices(
    *,
    households: pd.DataFrame,
    grids: pd.DataFrame,
    accounts: pd.DataFrame,
    laggards: set[str],
    worker_of: dict[str, str],
    rng: np.random.Generator,
    now: pd.Timestamp,
) -> PracticePlan:
    """Plan the practices of the demo street (see the module docstring).

    Parameters
    ----------
    households:
        ``grid_code`` of each household (micro-grid).
    grids:
        ``code``, ``level``.
    accounts:
        The demo's accounts (``name``, ``role``, ``staff_key``, ``grants``).
    laggards:
        Staff keys of the workers who fall short of their visits (their grids are the quiet ones).
    worker_of:
        Micro-grid code → staff key of its worker.
    now:
        The demo's "today" (aware, Asia/Shanghai).
    """
    level1 = sorted(grids.loc[grids["level"] == 1, "code"].astype(str))
    level2 = sorted(grids.loc[grids["level"] == 2, "code"].astype(str))
    quiet = {code for code, worker in worker_of.items() if worker in laggards}
    evaluation = _plan_evaluation(households, quiet, level1, rng, now)

    month_start = now.date().replace(day=1)
    months = []
    for _ in range(3):
        month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
        months.append(f"{month_start:%Y-%m}")
    months.reverse()
    seeds = tuple(int(s) for s in rng.integers(1, 2**62, len(months)))
    workers = accounts.loc[accounts["role"] == "worker"].sort_values("name")
    first = workers.loc[[any(str(g).startswith(level1[0]) for g in grants) for grants in workers["grants"]]]
    lagging_first = first.loc[first["staff_key"].isin(laggards)]
    repeat = (lagging_first if len(lagging_first) else first)["staff_key"].iloc[0]
    spot = SpotCheckPlan(months=tuple(months), seeds=seeds, per_worker=2, outcome_seed=int(rng.integers(1, 2**62)),
                         repeat_worker=str(repeat))
    notices = _plan_notices(level1, level2, workers, rng, now)
    return PracticePlan(evaluation=evaluation, spot_checks=spot, notices=notices)


# ---------------------------------------------------------------------------------------
# playing (through the use cases, in the demo load's transaction)
# ---------------------------------------------------------------------------------------
def play_practices(conn: Any, data: Any) -> dict[str, int]:
    """Play ``data.practices`` (and import ``data.cameras``) on ``conn``, the demo load's connection in
    its transaction; rows written per table."""
    from services.auth import end_transaction_session, transaction_session
    from store.session import acting_as, inline_units, unit_of_work

    plan: PracticePlan | None = getattr(data, "practices", None)
    if plan is None:
        return {}
    actors: dict[str, Any] = {}

    def act(name: str) -> Any:
        if name not in actors:
            actors[name] = transaction_session(conn, name)
        return actors[name]

    counts: dict[str, int] = {}
    with inline_units():
        try:
            cameras = getattr(data, "cameras", None)
            if cameras is not None and len(cameras):
                counts["cameras"] = _import_cameras(conn, act("admin"), cameras)
            counts.update(_play_evaluation(conn, act("planner"), plan.evaluation))
            counts.update(_play_spot_checks(conn, act, plan.spot_checks, data))
            counts.update(_play_notices(conn, act, plan.notices))
        finally:
            for actor in actors.values():
                end_transaction_session(conn, actor)
        with acting_as(None), unit_of_work(conn):
            pass  # the rest of the load's transaction acts as nobody again
    return counts


def _import_cameras(conn: Any, admin: Any, cameras: Any) -> int:
    from services.imports import load_rows

    frame = cameras[["camera_key", "name", "type", "status", "stream_url", "geometry"]]
    report = load_rows(conn, admin, "cameras", frame, source="演示数据：雪亮工程点位表")
    return int(report.inserted)


def _play_evaluation(conn: Any, planner: Any, plan: EvaluationPlan) -> dict[str, int]:
    from gis import clock
    from governance.evaluation import Answers
    from services import evaluation

    # the database takes a response only while the round is open by its clock: open it until after the
    # load; closing it at the end makes it a finished round (closed now)
    closes = max(plan.closes_at, clock.utc_now() + dt.timedelta(hours=1))
    row = evaluation.open_round(conn, planner, title=plan.title, period=plan.period, grid_codes=plan.grid_codes,
                                opens_at=plan.opens_at, closes_at=closes)
    issued = evaluation.issue_codes(conn, planner, row.id)
    slips: dict[str, list[str]] = {}
    for slip in issued.slips:
        slips.setdefault(slip.grid_code, []).append(slip.code)
    used: dict[str, int] = {}
    for r in plan.responses.itertuples(index=False):
        k = used.get(r.grid_code, 0)
        used[r.grid_code] = k + 1
        answers = Answers(service=r.service, responsiveness=r.responsiveness,
                          resolution=None if pd.isna(r.resolution) else int(r.resolution),
                          knows_worker=bool(r.knows_worker), comment=r.comment)
        evaluation.submit_response(conn, slips[r.grid_code][k], answers, round_id=row.id, now=r.submitted_at)
    evaluation.close_round(conn, planner, row.id)
    return {"evaluation_rounds": 1, "evaluation_codes": len(issued.slips), "evaluation_responses": len(plan.responses)}


def _play_spot_checks(conn: Any, act: Any, plan: SpotCheckPlan, data: Any) -> dict[str, int]:
    from services import spotchecks

    inspector = act("inspector")
    rng = np.random.default_rng(plan.outcome_seed)
    today = _local(data.until, 18)
    leader_accounts = {}
    accounts = data.accounts
    for r in accounts.itertuples(index=False):
        if r.role in ("leader", "grid_head") and isinstance(r.staff_key, str):
            leader_accounts.setdefault(r.staff_key, r.name)
    counts = {"spot_check_draws": 0, "spot_check_items": 0, "spot_check_outcomes": 0, "reminder_talks": 0}
    talks: list[tuple[int, int, str]] = []  # (talk id, leader staff id, month)
    repeat_id = None
    for month_no, (month, seed) in enumerate(zip(plan.months, plan.seeds, strict=True)):
        result = spotchecks.draw(conn, inspector, month, per_worker=plan.per_worker, seed=seed)
        counts["spot_check_draws"] += 1
        items = spotchecks.draw_items(conn, inspector, result.draw_id).sort_values("ord", kind="stable")
        counts["spot_check_items"] += len(items)
        if repeat_id is None:
            repeat_id = _staff_id(conn, plan.repeat_worker)
        last = month_no == len(plan.months) - 1
        year, mon = (int(x) for x in month.split("-"))
        check_from = dt.date(year + mon // 12, mon % 12 + 1, 2)
        forced = False
        for item in items.itertuples(index=False):
            due = item.reason == "special_due"
            share = (_DUE_CHECKED if due else _RANDOM_CHECKED) * (_LAST_MONTH_CHECKED if last else 1.0)
            if not due and int(item.staff_id) == repeat_id and month_no < 2:
                share = 1.0  # the worker who fails twice is checked every month
            draw = rng.random()
            outcome = _OUTCOMES[int(rng.choice(len(_OUTCOMES), p=_OUTCOME_P))]
            method = "phone" if rng.random() < 0.7 else "door"
            if draw >= share:
                continue
            if month_no < 2 and not forced and not due and int(item.staff_id) == repeat_id:
                outcome, forced = ("not_visited" if month_no == 0 else "details_wrong"), True
            notes = _OUTCOME_NOTES.get(outcome, _CONFIRMED_NOTES)
            note = notes[int(rng.integers(0, len(notes)))]
            checked = _local(check_from + dt.timedelta(days=int(rng.integers(0, 20))), 9) + \
                dt.timedelta(minutes=int(rng.integers(0, 8 * 60)))
            checked = min(checked, today - dt.timedelta(hours=2))  # never after the demo's "today"
            done = spotchecks.record_outcome(conn, inspector, int(item.item_id), outcome=outcome, method=method,
                                             note=note, checked_at=checked)
            counts["spot_check_outcomes"] += 1
            if done["talk_id"] is not None:
                counts["reminder_talks"] += 1
                talks.append((int(done["talk_id"]), int(done["leader_id"]), month))
    staff_keys = _staff_keys(conn)
    for talk_id, leader_id, month in talks:
        account = leader_accounts.get(staff_keys.get(leader_id, ""))
        if account is None or month == plan.months[-1]:
            continue  # no account to hold it, or too recent: still open
        note = _TALK_NOTES[talk_id % len(_TALK_NOTES)]
        spotchecks.complete_talk(conn, act(account), talk_id, note=note)
    return counts


def _staff_id(conn: Any, staff_key: str) -> int:
    from store.governance import load_staff

    staff = load_staff(conn)
    return int(staff.loc[staff["staff_key"] == staff_key, "id"].iloc[0])


def _staff_keys(conn: Any) -> dict[int, str]:
    from store.governance import load_staff

    staff = load_staff(conn)
    return dict(zip(staff["id"].astype(int), staff["staff_key"].astype(str), strict=True))


def _play_notices(conn: Any, act: Any, notices: tuple[NoticePlan, ...]) -> dict[str, int]:
    from governance.notices import Notice
    from services import notices as notice_service

    published = reads = 0
    for plan in notices:
        notice_id = notice_service.publish(conn, act(plan.publisher), Notice(
            id=None, kind=plan.kind, title=plan.title, body=plan.body, valid_from=plan.valid_from,
            valid_to=plan.valid_to, grid_codes=plan.grid_codes, levels=plan.levels))
        published += 1
        for reader in plan.readers:
            reads += int(notice_service.mark_read(conn, act(reader), notice_id))
    return {"notices": published, "notice_reads": reads}
