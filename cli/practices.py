"""``gridgov evaluation|spotcheck|notice`` and ``gridgov report three-in-one|rate``: the street's
practices (issue #17) on the command line, thin over their use cases.

* ``evaluation open|list|codes|close|results`` — resident evaluation (民主测评,
  :mod:`services.evaluation`); ``codes`` writes the round's one-time codes once, as CSV or as
  printable HTML slips with a QR code to ``/public/evaluate?round=ID&code=…`` (:mod:`etl.slips`);
* ``spotcheck draw|record|list|talks`` — supervision spot checks (督查, :mod:`services.spotchecks`);
* ``notice publish|list|receipts`` — notices to grids and levels (信息推送, :mod:`services.notices`);
* ``report three-in-one`` / ``report rate`` — the three-in-one assessment (三合一考核,
  :mod:`services.three_in_one`) beside ``report assessment`` (the month's daily points).

Registered by :func:`register` from :mod:`cli.main`; options mean what they mean everywhere
(``--month``, ``--at``, ``--out``, ``--json``, ids). Domain errors propagate to ``cli.main.main``
(one ``error:`` line and an exit code).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import typer

from cli.main import JSON_HELP, id_parser, parse_as_of, parse_month
from gis import clock
from gis.errors import ValidationError

__all__ = ["register", "evaluation_app", "spotcheck_app", "notice_app"]

evaluation_app = typer.Typer(help="Resident evaluation (民主测评): open a round, issue its codes, close it, results.",
                             no_args_is_help=True)
spotcheck_app = typer.Typer(help="Supervision spot checks (督查): draw a month's sample, record outcomes, reminder talks.",
                            no_args_is_help=True)
notice_app = typer.Typer(help="Notices (信息推送) to grids and levels: publish, list, read receipts.",
                         no_args_is_help=True)

_JSON = typer.Option(False, "--json", help=JSON_HELP)


def register(app: typer.Typer) -> None:
    """Attach the three groups, and the three-in-one commands to ``gridgov report``."""
    from cli.governance import report_app

    app.add_typer(evaluation_app, name="evaluation")
    app.add_typer(spotcheck_app, name="spotcheck")
    app.add_typer(notice_app, name="notice")
    report_app.command("three-in-one")(report_three_in_one)
    report_app.command("rate")(report_rate)


# -- helpers ---------------------------------------------------------------------------------------
def _cli():  # noqa: ANN202 - the cli.main module (imported late: it imports us)
    from cli import main as cli

    return cli


def _engine_and_actor() -> tuple[Any, Any]:
    """The application engine and the acting account (checked against the command's permission first)."""
    engine = _cli().open_engine()
    return engine, _cli().current_actor()


def _emit(data: Any, as_json: bool, render=None) -> None:  # noqa: ANN001
    _cli().emit(data, as_json=as_json, render=render)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (no NaN/NA: ``None``; numpy scalars as Python values)."""
    if frame is None or not len(frame):
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in clean.to_dict("records")]


def _local(value: Any) -> str:
    if value is None or (not isinstance(value, dt.datetime) and pd.isna(value)):
        return "-"
    stamp = pd.Timestamp(value)
    return stamp.tz_convert(clock.zone()).strftime("%Y-%m-%d %H:%M") if stamp.tzinfo else stamp.strftime("%Y-%m-%d")


def _moment(value: str | None, option: str, *, end_of_day: bool = False) -> dt.datetime | None:
    return parse_as_of(value, option=option, end_of_day=end_of_day)


def _pct(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.0%}"


def _num(value: Any, digits: int = 2) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


# -- evaluation ------------------------------------------------------------------------------------
def _render_round(d: dict[str, Any]) -> None:
    typer.echo(f"evaluation round {d['id']} [{d['status']}] v{d['version']} {d['title']} ({d['period']}): "
               f"grids {', '.join(d['grid_codes'])}; open {_local(d['opens_at'])} to {_local(d['closes_at'])}; "
               f"questions {', '.join(d['questions'])}; groups under {d['min_group']} responses suppressed")


@evaluation_app.command("open")
def evaluation_open(
    title: str = typer.Option(..., "--title", help="Title printed on the slips, e.g. 2026年第四季度民主测评."),
    period: str = typer.Option(..., "--period", help="Period evaluated: YYYY-MM, YYYY-Qn or YYYY."),
    grids: list[str] = typer.Option(..., "--grid", help="Grid code in the round (repeat; a code covers its subtree)."),
    opens: Optional[str] = typer.Option(None, "--opens", help="When residents may start: YYYY-MM-DD or ISO timestamp; "
                                                               "default now."),
    closes: Optional[str] = typer.Option(None, "--closes", help="Last day codes may be used (YYYY-MM-DD: the end of "
                                                                 "that day) or an ISO timestamp; default 30 days on."),
    questions: Optional[list[str]] = typer.Option(
        None, "--question", help="Question asked (repeat): service, responsiveness, resolution, knows_worker, comment. "
                                 "Default: all of them."),
    min_group: int = typer.Option(5, "--min-group", help="Results of fewer responses than this are suppressed."),
    as_json: bool = _JSON,
) -> None:
    """Open an evaluation round (planners, admins)."""
    from services.evaluation import open_round

    opens_at = _moment(opens, "--opens") or clock.utc_now()
    closes_at = _moment(closes, "--closes", end_of_day=True) or opens_at + dt.timedelta(days=30)
    engine, actor = _engine_and_actor()
    row = open_round(engine, actor, title=title, period=period, grid_codes=[g.strip() for g in grids],
                     opens_at=opens_at, closes_at=closes_at, questions=questions or None, min_group=min_group)
    _emit(row.to_dict(), as_json, _render_round)


@evaluation_app.command("list")
def evaluation_list(as_json: bool = _JSON) -> None:
    """Every evaluation round, newest first."""
    from services.evaluation import list_rounds

    engine, actor = _engine_and_actor()
    rows = [r.to_dict() for r in list_rounds(engine, actor)]

    def render(items: list[dict[str, Any]]) -> None:
        typer.echo(f"{len(items)} evaluation round(s)")
        for d in items:
            _render_round(d)

    _emit(rows, as_json, render)


_ROUND = typer.Argument(..., parser=id_parser("round id"), metavar="ROUND", help="Evaluation round id.")


@evaluation_app.command("codes")
def evaluation_codes(
    round_id: int = _ROUND,
    out: Path = typer.Option(..., "--out", help="Where the slips go: FILE.csv, or FILE.html (printable slips with QR "
                                                "codes). The one copy of the codes: print it, then destroy it."),
    grids: Optional[list[str]] = typer.Option(None, "--grid", help="Only these grids of the round (repeat); default "
                                                                    "every grid without codes yet."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Address residents open (default: the "
                                                                    "GRIDGOV_PUBLIC_URL setting)."),
    as_json: bool = _JSON,
) -> None:
    """Issue the round's one-time codes, one per household, and write them as slips (once: never stored)."""
    from etl.slips import check_slips_path, slip_url, write_slips
    from gis.settings import get_settings
    from services.evaluation import issue_codes, list_rounds
    from services.notices import grid_names

    check_slips_path(out)  # before any code is issued: codes that cannot be written would be lost
    out.parent.mkdir(parents=True, exist_ok=True)
    base = (base_url or get_settings().public_base_url).rstrip("/")
    slip_url(base, round_id, "0000")  # an unusable address is refused now, not after issuing
    engine, actor = _engine_and_actor()
    made = issue_codes(engine, actor, round_id, grids=[g.strip() for g in grids] if grids else None)
    round_ = next((r for r in list_rounds(engine, actor) if r.id == round_id), None)
    title = round_.title if round_ is not None else f"#{round_id}"
    names = grid_names(engine, actor, [s.grid_code for s in made.slips])
    write_slips(made.slips, out, lambda s: slip_url(base, round_id, s.code), title=title, grid_names=names)
    payload = {"round_id": round_id, "codes": len(made.slips), "out": str(out), "unassigned_households": made.unassigned,
               "per_grid": _records(made.per_grid), "url": f"{base}/public/evaluate?round={round_id}"}

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"{d['codes']} code(s) of round {round_id} written to {d['out']} "
                   f"({len(d['per_grid'])} grid(s)); this file is the only copy of the codes")
        if d["unassigned_households"]:
            typer.echo(f"  {d['unassigned_households']} household(s) without a grid got no code")

    _emit(payload, as_json, render)


@evaluation_app.command("close")
def evaluation_close(
    round_id: int = _ROUND,
    expected_version: Optional[int] = typer.Option(
        None, "--expected-version", parser=id_parser("--expected-version"), metavar="VERSION",
        help="The version you saw (gridgov evaluation list); refused if the round changed since."),
    as_json: bool = _JSON,
) -> None:
    """Close a round now: its unused codes expire; the results stay."""
    from services.evaluation import close_round

    engine, actor = _engine_and_actor()
    _emit(close_round(engine, actor, round_id, expected_version=expected_version).to_dict(), as_json, _render_round)


@evaluation_app.command("results")
def evaluation_results(round_id: int = _ROUND, as_json: bool = _JSON) -> None:
    """Response rate and averages per worker and per grid (groups under the round's minimum suppressed)."""
    from services.evaluation import round_results

    engine, actor = _engine_and_actor()
    result = round_results(engine, actor, round_id)
    payload = result.to_dict()

    def render(d: dict[str, Any]) -> None:
        _render_round(d["round"])
        for title, key, label in (("workers", "workers", "staff_id"), ("grids", "grids", "grid_code")):
            typer.echo(f"{title}:")
            for r in d[key]:
                if r.get("suppressed"):
                    typer.echo(f"  {r[label]}: {r['responses'] if r.get('responses') is not None else '<' + str(d['min_group'])}"
                               f" response(s) of {r['issued']} issued: suppressed (fewer than {d['min_group']})")
                    continue
                typer.echo(f"  {r[label]}: {r['responses']}/{r['issued']} responded ({_pct(r['response_rate'])}); "
                           f"service {_num(r.get('service'))}, responsiveness {_num(r.get('responsiveness'))}, "
                           f"resolution {_num(r.get('resolution'))}, knows the worker {_pct(r.get('awareness'))}; "
                           f"score {_num(r.get('score'), 1)}")

    _emit(payload, as_json, render)


# -- spot checks -----------------------------------------------------------------------------------
@spotcheck_app.command("draw")
def spotcheck_draw(
    month: str = typer.Option(..., "--month", help="The month whose visits are sampled: YYYY-MM."),
    per_worker: int = typer.Option(2, "--per-worker", help="Visits drawn at random per worker (besides every visit to a "
                                                           "special household due for checking)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Reproduce a recorded draw with its seed (default: a fresh "
                                                           "random seed, recorded)."),
    as_json: bool = _JSON,
) -> None:
    """Draw and store a month's spot-check sample, stratified per worker; the seed is recorded."""
    from services.spotchecks import draw, draw_items

    month = parse_month(month)  # type: ignore[assignment]
    if per_worker < 0:
        raise ValidationError(f"--per-worker was {per_worker} but is expected to be 0 or more",
                              code="spotcheck.per_worker", params={"value": per_worker})
    if seed is not None and seed < 0:
        raise ValidationError(f"--seed was {seed} but is expected to be 0 or more", code="spotcheck.seed",
                              params={"value": seed})
    engine, actor = _engine_and_actor()
    result = draw(engine, actor, month, per_worker=per_worker, seed=seed)
    items = draw_items(engine, actor, result.draw_id)
    record = result.to_dict()
    per_staff = result.sample.visits.groupby("staff_id").size() if len(result.sample.visits) else pd.Series(dtype=int)
    payload = {**record, "per_staff": {int(k): int(v) for k, v in per_staff.items()},
               "items": _records(items[["item_id", "ord", "visit_id", "staff_id", "staff_name", "household_id",
                                        "grid_code", "visited_at", "reason"]])}

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"draw {d['draw_id']} of {d['month']}: {len(d['items'])} of {d['population']} visit(s), "
                   f"{len(d['per_staff'])} worker(s), {d['per_worker']} per worker plus due special households; "
                   f"seed {d['seed']} (gridgov spotcheck draw --month {d['month']} --per-worker {d['per_worker']} "
                   f"--seed {d['seed']} reproduces it)")
        for r in d["items"]:
            typer.echo(f"  item {r['item_id']:>6}  #{r['ord']:<3} {r['staff_name']} visit {r['visit_id']} "
                       f"{_local(r['visited_at'])} household {r['household_id']} [{r['reason']}]")

    _emit(payload, as_json, render)


@spotcheck_app.command("record")
def spotcheck_record(
    item_id: int = typer.Argument(..., parser=id_parser("item id"), metavar="ITEM", help="Sample item id (spotcheck list)."),
    outcome: str = typer.Option(..., "--outcome", help="confirmed | not_visited | details_wrong | unreachable "
                                                       "(or its Chinese label)."),
    method: str = typer.Option(..., "--method", help="phone | door (or 电话回访 / 入户核查)."),
    note: str = typer.Option("", "--note", help="What was found (required unless confirmed)."),
    at: Optional[str] = typer.Option(None, "--at", help="When it was checked: YYYY-MM-DD or ISO timestamp; default now."),
    as_json: bool = _JSON,
) -> None:
    """Record the outcome of one sampled visit; a failed check gives the worker's leader a reminder talk."""
    from services.spotchecks import record_outcome

    checked_at = _moment(at, "--at", end_of_day=False)
    engine, actor = _engine_and_actor()
    result = record_outcome(engine, actor, item_id, outcome=outcome, method=method, note=note, checked_at=checked_at)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"outcome {d['outcome_id']} recorded for item {item_id}" + (
            f"; failed: reminder talk {d['talk_id']} for {d['leader_name'] or d['leader_id']}" if d["talk_id"] else
            ("; failed, but the grid has no leader to hold a reminder talk" if d["failed"] else "")))

    _emit({"item_id": item_id, **result}, as_json, render)


@spotcheck_app.command("list")
def spotcheck_list(
    draw_id: Optional[int] = typer.Argument(None, parser=id_parser("draw id"), metavar="DRAW",
                                            help="A draw: its items and outcomes. Without: every draw."),
    verify: bool = typer.Option(False, "--verify", help="With DRAW: re-draw it from its recorded seed and say whether "
                                                        "it is reproduced."),
    as_json: bool = _JSON,
) -> None:
    """The draws with their counts, or one draw's work list (with --verify: re-drawn from its seed)."""
    from services.spotchecks import draw_items, list_draws, repeated, verify_draw

    engine, actor = _engine_and_actor()
    if draw_id is None:
        if verify:
            raise _cli().fail("--verify needs a DRAW", 2)
        draws = _records(list_draws(engine, actor))
        again = _records(repeated(engine, actor))

        def render_draws(d: dict[str, Any]) -> None:
            typer.echo(f"{len(d['draws'])} draw(s)")
            for r in d["draws"]:
                typer.echo(f"  draw {r['id']:>5} {r['month']} seed {r['seed']}: {r['items']} item(s), {r['checked']} "
                           f"checked, {r['failed']} failed (by {r['drawn_by']}, {_local(r['drawn_at'])})")
            if d["repeated_failures"]:
                typer.echo("repeated failures (last 3 months):")
                for r in d["repeated_failures"]:
                    typer.echo(f"  {r.get('name') or r['staff_id']}: {r.get('failures', '')}")

        _emit({"draws": draws, "repeated_failures": again}, as_json, render_draws)
        return
    items = _records(draw_items(engine, actor, draw_id))
    payload: dict[str, Any] = {"draw_id": draw_id, "items": items}
    if verify:
        payload["differences"] = verify_draw(engine, actor, draw_id)
        payload["reproduced"] = not payload["differences"]

    def render(d: dict[str, Any]) -> None:
        for r in d["items"]:
            found = f"{r['outcome']} by {r['method']} ({r['inspector']})" if r.get("outcome") else "not checked yet"
            typer.echo(f"  item {r['item_id']:>6} #{r['ord']:<3} {r['staff_name']} visit {r['visit_id']} "
                       f"{_local(r['visited_at'])} {r.get('address') or ''} [{r['reason']}]: {found}")
        if "reproduced" in d:
            typer.echo("reproduced from its seed" if d["reproduced"] else "NOT reproduced: " + "; ".join(d["differences"]))

    _emit(payload, as_json, render)
    if verify and not payload["reproduced"]:
        raise typer.Exit(1)


@spotcheck_app.command("talks")
def spotcheck_talks(
    status: Optional[str] = typer.Option(None, "--status", help="open | done (default both)."),
    mine: bool = typer.Option(False, "--mine", help="Only the talks you are to hold."),
    done: Optional[int] = typer.Option(None, "--done", parser=id_parser("--done"), metavar="TALK",
                                       help="Mark this reminder talk done (the leader it names), with --note."),
    note: str = typer.Option("", "--note", help="With --done: what was said (required)."),
    at: Optional[str] = typer.Option(None, "--at", help="With --done: when the talk was held; default now."),
    expected_version: Optional[int] = typer.Option(
        None, "--expected-version", parser=id_parser("--expected-version"), metavar="VERSION",
        help="With --done: the version you saw; refused if the talk changed since."),
    as_json: bool = _JSON,
) -> None:
    """Reminder talks (提醒谈话) after failed checks: list them, or mark one done with a note."""
    from services.spotchecks import complete_talk, list_talks

    if status is not None and status not in ("open", "done"):
        raise _cli().fail(f"--status was {status!r} but is expected to be open or done", 2)
    held_at = _moment(at, "--at")
    engine, actor = _engine_and_actor()
    if done is not None:
        if not note.strip():
            raise ValidationError("a reminder talk is marked done with a note of what was said (--note)",
                                  code="spotcheck.talk_note")
        version = complete_talk(engine, actor, done, note=note, at=held_at, expected_version=expected_version)
        _emit({"talk_id": done, "status": "done", "version": version}, as_json,
              lambda d: typer.echo(f"reminder talk {d['talk_id']} marked done (v{d['version']})"))
        return
    talks = _records(list_talks(engine, actor, status=status, mine=mine))

    def render(items: list[dict[str, Any]]) -> None:
        typer.echo(f"{len(items)} reminder talk(s)")
        for r in items:
            typer.echo(f"  talk {r['id']:>5} [{r['status']}] v{r['version']} {r['staff_name']} (grid {r['grid_code']}), "
                       f"leader {r['leader_name'] or r['leader_id']}: {r['outcome']} — {r.get('finding') or ''}"
                       + (f"; done {_local(r['done_at'])}: {r['note']}" if r["status"] == "done" else ""))

    _emit(talks, as_json, render)


# -- notices ---------------------------------------------------------------------------------------
def _notice_dict(notice: Any) -> dict[str, Any]:
    from dataclasses import asdict

    out = asdict(notice)
    out["grid_codes"], out["levels"] = list(notice.grid_codes), list(notice.levels)
    return out


def _render_notice(d: dict[str, Any]) -> None:
    reach = ", ".join([*d["grid_codes"], *(f"level {lv}" for lv in d["levels"])]) or "-"
    typer.echo(f"notice {d['id']} [{d['kind']}] {d['title']} ({_local(d['valid_from'])} to {_local(d['valid_to'])}; "
               f"to {reach}; {'public' if d['public'] else 'staff only'}; by {d['author']})")


@notice_app.command("publish")
def notice_publish(
    kind: str = typer.Option(..., "--kind", help="policy | police_alert | public_safety | jobs | street_work "
                                                 "(or its Chinese label)."),
    title: str = typer.Option(..., "--title", help="Title (one line, at most 60 characters)."),
    body: Optional[str] = typer.Option(None, "--body", help="Text (plain, at most 2000 characters)."),
    body_file: Optional[Path] = typer.Option(None, "--body-file", help="Read the text from this UTF-8 file instead."),
    grids: Optional[list[str]] = typer.Option(None, "--grid", help="Grid code it goes to, with its subtree (repeat)."),
    levels: Optional[list[int]] = typer.Option(None, "--level", help="Grid level it goes to (repeat); street-wide."),
    valid_from: Optional[str] = typer.Option(None, "--from", help="Shown from: YYYY-MM-DD or ISO timestamp; default now."),
    valid_to: Optional[str] = typer.Option(None, "--to", help="Shown until (YYYY-MM-DD: the end of that day); "
                                                               "default 30 days on."),
    attachments: Optional[list[str]] = typer.Option(None, "--attach", help="NAME=URL of an attachment (repeat)."),
    private: bool = typer.Option(False, "--staff-only", help="Not on the public contact card and notice page."),
    as_json: bool = _JSON,
) -> None:
    """Publish a notice to grids or levels (leaders, grid heads)."""
    from governance.notices import Attachment, Notice
    from services.notices import publish

    if (body is None) == (body_file is None):
        raise _cli().fail("give the text with --body or --body-file (one of them)", 2)
    text = body if body is not None else body_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    files = []
    for item in attachments or []:
        name, sep, ref = item.partition("=")
        if not sep:
            raise _cli().fail(f"--attach was {item!r} but is expected to be NAME=URL", 2)
        files.append(Attachment(name=name.strip(), ref=ref.strip()))
    start = _moment(valid_from, "--from") or clock.utc_now()
    end = _moment(valid_to, "--to", end_of_day=True) or start + dt.timedelta(days=30)
    engine, actor = _engine_and_actor()
    notice = Notice(id=None, kind=kind, title=title, body=text, valid_from=start, valid_to=end,
                    grid_codes=tuple(g.strip() for g in grids or ()), levels=tuple(levels or ()),
                    attachments=tuple(files), public=not private)
    notice_id = publish(engine, actor, notice)
    _emit({"id": notice_id, "title": title}, as_json, lambda d: typer.echo(f"notice {d['id']} published: {d['title']}"))


@notice_app.command("list")
def notice_list(
    current: bool = typer.Option(False, "--current", help="Only notices shown now."),
    wechat: bool = typer.Option(False, "--wechat", help="Print each as text to paste into a WeChat group."),
    as_json: bool = _JSON,
) -> None:
    """Notices, newest first."""
    from services.notices import grid_names, list_notices, wechat as wechat_text

    engine, actor = _engine_and_actor()
    notices = list_notices(engine, actor, current_only=current)
    payload = [_notice_dict(n) for n in notices]
    if wechat:
        names = grid_names(engine, actor, [c for n in notices for c in n.grid_codes])
        for item, n in zip(payload, notices):
            item["wechat_text"] = wechat_text(n, grid_names=names)

    def render(items: list[dict[str, Any]]) -> None:
        typer.echo(f"{len(items)} notice(s)")
        for d in items:
            _render_notice(d)
            if "wechat_text" in d:
                typer.echo(d["wechat_text"])
                typer.echo("")

    _emit(payload, as_json, render)


@notice_app.command("receipts")
def notice_receipts(
    notice_id: int = typer.Argument(..., parser=id_parser("notice id"), metavar="NOTICE", help="Notice id."),
    unread: bool = typer.Option(False, "--unread", help="Only those who have not read it yet."),
    as_json: bool = _JSON,
) -> None:
    """Who a notice reaches and whether they have read it (unread first)."""
    from services.notices import receipts

    engine, actor = _engine_and_actor()
    frame = receipts(engine, actor, notice_id)
    rows = _records(frame.loc[~frame["read"].astype(bool)] if unread else frame)
    total, read = len(frame), int(frame["read"].astype(bool).sum()) if len(frame) else 0

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"notice {notice_id}: read by {d['read']} of {d['reached']}")
        for r in d["receipts"]:
            codes = r.get("grid_codes")
            codes = ", ".join(codes) if isinstance(codes, (list, tuple)) else (codes or "")
            typer.echo(f"  {'read ' + _local(r['read_at']) if r['read'] else 'NOT READ':<22} {r.get('name') or r['staff_id']}"
                       f" ({codes})")

    _emit({"notice_id": notice_id, "reached": total, "read": read, "receipts": rows}, as_json, render)


# -- the three-in-one assessment (gridgov report …) -------------------------------------------------
def _config(weights: str | None, thresholds: str | None, deduction: float | None) -> Any:
    """A :class:`governance.three_in_one.ThreeInOneConfig` from ``--weights 50,30,20`` (percent or fractions),
    ``--thresholds 90,75,60`` and ``--deduction 5``; ``None`` for the defaults."""
    from governance.three_in_one import GradeThresholds, ThreeInOneConfig, ThreeInOneWeights

    if weights is None and thresholds is None and deduction is None:
        return None

    def numbers(text: str, option: str) -> list[float]:
        try:
            values = [float(p) for p in text.split(",")]
        except ValueError:
            raise _cli().GridGovUsage(f"{option} was {text!r} but is expected to be three numbers, e.g. "
                                      + ("50,30,20" if option == "--weights" else "90,75,60")) from None
        if len(values) != 3:
            raise _cli().GridGovUsage(f"{option} was {text!r} but is expected to be three numbers separated by commas")
        return values

    kwargs: dict[str, Any] = {}
    if weights is not None:
        w = numbers(weights, "--weights")
        if sum(w) > 1.5:  # given in percent
            w = [v / 100 for v in w]
        kwargs["weights"] = ThreeInOneWeights(*w)
    if thresholds is not None:
        kwargs["thresholds"] = GradeThresholds(*numbers(thresholds, "--thresholds"))
    if deduction is not None:
        kwargs["spot_check_deduction"] = deduction
    return ThreeInOneConfig(**kwargs)


def report_three_in_one(
    period: str = typer.Option(..., "--period", help="A month YYYY-MM, a quarter YYYY-Qn or a year YYYY."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Weights of daily points, residents' evaluation and "
                                                                  "the leader's rating, e.g. 50,30,20 (the default)."),
    thresholds: Optional[str] = typer.Option(None, "--thresholds", help="Lowest totals of 优秀, 合格 and 基本合格, e.g. "
                                                                        "90,75,60 (the default)."),
    deduction: Optional[float] = typer.Option(None, "--deduction", help="Points off per failed spot check (default 5)."),
    publish: bool = typer.Option(False, "--publish", help="Publish the result (street-wide leaders, admins): each worker "
                                                          "then sees their breakdown; a 不合格 year marks them ineligible."),
    as_json: bool = _JSON,
) -> None:
    """The three-in-one assessment (三合一考核): daily points, residents' evaluation and the leader's rating,
    weighted, with each worker's grade. A worker sees their own published breakdown."""
    from access.permissions import may
    from i18n import translate
    from services import three_in_one as tio

    from gis.clock import parse_period

    label = parse_period(period).label
    config = _config(weights, thresholds, deduction)
    engine, actor = _engine_and_actor()
    if not may(actor.role, "view_evaluation"):  # a worker: their own published result, with its formula
        if publish or config is not None:
            from access.permissions import require

            require(actor.role, "rate_workers" if publish else "view_evaluation")
        mine = tio.my_result(engine, actor, label)
        payload = {"period": label, "mine": None if mine is None else {k: (v.item() if hasattr(v, "item") else v)
                                                                      for k, v in mine.items()}}

        def render_mine(d: dict[str, Any]) -> None:
            if d["mine"] is None:
                typer.echo(f"no published three-in-one result of {label} for you yet")
                return
            m = d["mine"]
            typer.echo(f"{label}: total {_num(m.get('total'))}, grade {m.get('grade') or '-'}, rank {m.get('rank') or '-'}")

        _emit(payload, as_json, render_mine)
        return
    if publish:
        written = tio.publish(engine, actor, label, config=config)
    result, inputs = tio.compute(engine, actor, label, config=config)
    payload = {"period": result.period.label, "config": result.config.as_dict(), "inputs": {
        "months": list(inputs.months), "rounds": inputs.rounds, "ratings": inputs.ratings, "checks": inputs.checks},
        "workers": _records(result.workers), "published": written if publish else None,
        "breakdowns": {str(k): b.to_dict() for k, b in result.breakdowns.items()}}

    def render(d: dict[str, Any]) -> None:
        from governance.vocab import GRADE_TERMS

        w = d["config"]["weights"]
        typer.echo(f"three-in-one {d['period']}: weights daily points {w['daily_points']:.0%}, evaluation "
                   f"{w['evaluation']:.0%}, leader's rating {w['leader_rating']:.0%}; months {', '.join(d['inputs']['months'])}")
        for r in d["workers"]:
            grade = GRADE_TERMS.label(r["grade"]) if r.get("grade") else "-"
            eligible = "" if r.get("award_eligible") is None else ("" if r["award_eligible"] else "  不可评优")
            typer.echo(f"  {r['rank'] if r.get('rank') is not None else '-':>4} {r.get('name') or r['staff_id']}: "
                       f"total {_num(r.get('total'))} {grade}{eligible}")
        typer.echo(f"formula (zh): {result.breakdowns[next(iter(result.breakdowns))].formula(translate)}"
                   if result.breakdowns else "no workers")
        if d["published"] is not None:
            typer.echo(f"published: {d['published']} worker result(s)")

    _emit(payload, as_json, render)


def report_rate(
    staff: str = typer.Argument(..., metavar="STAFF", help="The worker's staff key or id."),
    period: str = typer.Option(..., "--period", help="A month YYYY-MM, a quarter YYYY-Qn or a year YYYY."),
    rating: float = typer.Option(..., "--rating", help="The overall rating (综合评定), 0–100."),
    note: str = typer.Option("", "--note", help="Why (shown to the worker with their breakdown)."),
    expected_version: Optional[int] = typer.Option(
        None, "--expected-version", parser=id_parser("--expected-version"), metavar="VERSION",
        help="The version of the rating you saw; refused if it changed since."),
    as_json: bool = _JSON,
) -> None:
    """Record a leader's overall rating of a worker for a period (a part of the three-in-one assessment)."""
    from cli.governance import _staff_id
    from services.three_in_one import rate_worker

    engine, actor = _engine_and_actor()
    with engine.connect() as conn:
        staff_id = _staff_id(conn, staff, option="STAFF")
    version = rate_worker(engine, actor, staff_id, period, rating, note=note, expected_version=expected_version)
    _emit({"staff_id": staff_id, "period": period, "rating": rating, "version": version}, as_json,
          lambda d: typer.echo(f"rating {d['rating']:g} of staff {d['staff_id']} for {d['period']} recorded (v{d['version']})"))
