"""Notices (信息推送): validation, who a notice reaches, current notices, read receipts, WeChat text.

A leader or grid head publishes a :class:`Notice` of a kind (:data:`governance.vocab.NOTICE_KINDS`:
policy, police alert, public safety, jobs, street work) with a title, plain text, attachments
and a validity window ``[valid_from, valid_to)``, to grids and/or levels:

**Reach.** The notice is published to the grids ``R`` that lie in the subtree of one of its
``grid_codes`` (a code and all its descendants; no codes = the whole street) *and* whose level
is one of its ``levels`` (no levels = every level). So ``grid_codes=(community,)`` reaches the
community and every grid in it, ``levels=(3,)`` every micro-grid of the street, and both
together the micro-grids of the community. At least one of the two must be given.

**Audience.** Staff with an active assignment (any role) on a grid in ``R`` see it on their
home page and are expected to read it (:func:`notice_audience`, :func:`read_receipts`).
**Public.** A public notice (``public=True``) is shown on the public page and the contact card of
a grid ``g`` when ``g`` or one of its ancestors is in ``R``: residents of a micro-grid see
what their community was sent (:func:`notices_for_grid`).

Texts are plain text (no HTML). :func:`wechat_text` renders a notice for pasting into a WeChat
group, with words from the catalogue passed in as ``translate``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import pandas as pd

from boundaries.coding import CodeScheme, InvalidGridCodeError, default_scheme
from gis.clock import local_date, require_aware
from gis.errors import ValidationError
from governance._frames import active_on, match_prefix, require_columns, utc
from governance.vocab import NOTICE_KIND_TERMS

__all__ = [
    "TITLE_MAX_CHARS",
    "BODY_MAX_CHARS",
    "MAX_ATTACHMENTS",
    "NoticeValidationError",
    "Attachment",
    "Notice",
    "validate_notice",
    "is_current",
    "notice_reach",
    "notice_audience",
    "notices_for_grid",
    "notices_for_staff",
    "read_receipts",
    "wechat_text",
]

TITLE_MAX_CHARS = 60
BODY_MAX_CHARS = 2000
MAX_ATTACHMENTS = 10
ATTACHMENT_NAME_MAX_CHARS = 100
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>")

Translate = Callable[..., str]


class NoticeValidationError(ValidationError):
    """A notice is not valid; ``findings`` lists every problem (``field``, ``message``)."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to a notice: its display ``name`` and ``ref`` (a storage key or an http(s) URL)."""

    name: str
    ref: str


@dataclass(frozen=True)
class Notice:
    """A notice. Times are aware; ``valid_to`` is exclusive."""

    id: int | None
    kind: str
    title: str
    body: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    grid_codes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    public: bool = True
    author: str = ""


def validate_notice(notice: Notice, *, scheme: CodeScheme | None = None) -> Notice:
    """Check a notice; raise :class:`NoticeValidationError` with every problem, else return it normalized.

    Rules: kind in the vocabulary (code or label); title 1–60 characters on one line; body
    1–2000 characters of plain text (no HTML tags); ``valid_from < valid_to``, both aware;
    grid codes valid in the scheme; levels within the scheme; at least one grid code or level;
    at most 10 attachments, each named, referring to a storage key or an http(s) URL; an author.
    """
    scheme = scheme or default_scheme()
    problems: list[dict[str, str]] = []

    def bad(field_: str, message: str) -> None:
        problems.append({"field": field_, "message": message})

    kind = NOTICE_KIND_TERMS.parse(notice.kind)
    if kind is None:
        bad("kind", f"kind {notice.kind!r} is unknown; expected {NOTICE_KIND_TERMS.accepted()}")
    title = (notice.title or "").strip()
    if not title:
        bad("title", "the notice has no title")
    elif len(title) > TITLE_MAX_CHARS:
        bad("title", f"the title has {len(title)} characters; at most {TITLE_MAX_CHARS}")
    if "\n" in title or "\r" in title:
        bad("title", "the title is one line")
    body = (notice.body or "").strip().replace("\r\n", "\n")
    if not body:
        bad("body", "the notice has no text")
    elif len(body) > BODY_MAX_CHARS:
        bad("body", f"the text has {len(body)} characters; at most {BODY_MAX_CHARS}")
    for name, text in (("title", title), ("body", body)):
        if _TAG.search(text):
            bad(name, f"the {name} contains an HTML tag ({_TAG.search(text).group(0)!r}); write plain text")
    try:
        require_aware(notice.valid_from, name="valid_from")
        require_aware(notice.valid_to, name="valid_to")
        if notice.valid_to <= notice.valid_from:
            bad("valid_to", f"the notice ends ({notice.valid_to.isoformat()}) before it starts ({notice.valid_from.isoformat()})")
    except ValidationError as exc:
        bad("valid_from", str(exc))
    codes = tuple(sorted(set(notice.grid_codes)))
    for code in codes:
        try:
            scheme.validate(code)
        except InvalidGridCodeError as exc:
            bad("grid_codes", str(exc))
    levels = tuple(sorted({int(level) for level in notice.levels}))
    for level in levels:
        if not 1 <= level <= scheme.levels:
            bad("levels", f"level {level} does not exist; the code scheme has levels 1..{scheme.levels}")
    if not codes and not levels:
        bad("grid_codes", "choose the grids or the levels the notice goes to")
    if len(notice.attachments) > MAX_ATTACHMENTS:
        bad("attachments", f"{len(notice.attachments)} attachments; at most {MAX_ATTACHMENTS}")
    attachments = []
    for attachment in notice.attachments:
        name = (attachment.name or "").strip()
        ref = (attachment.ref or "").strip()
        if not name or len(name) > ATTACHMENT_NAME_MAX_CHARS:
            bad("attachments", f"attachment {attachment.ref!r} needs a name of 1–{ATTACHMENT_NAME_MAX_CHARS} characters")
        scheme_part = urlsplit(ref).scheme
        if not ref or (scheme_part and scheme_part not in ("http", "https")):
            bad("attachments", f"attachment {name!r} refers to {ref!r}; expected a stored file or an http(s) address")
        attachments.append(Attachment(name, ref))
    if not (notice.author or "").strip():
        bad("author", "the notice records who publishes it")
    if problems:
        raise NoticeValidationError("notice is not valid: " + "; ".join(p["message"] for p in problems), findings=problems,
                                    code="notice.invalid", params={"fields": sorted({p["field"] for p in problems})})
    return replace(notice, kind=kind, title=title, body=body, grid_codes=codes, levels=levels,
                   attachments=tuple(attachments), author=notice.author.strip())


def is_current(notice: Notice, at: dt.datetime) -> bool:
    """True when ``valid_from <= at < valid_to``."""
    require_aware(at, name="at")
    return notice.valid_from <= at < notice.valid_to


def notice_reach(notice: Notice, grids: pd.DataFrame) -> pd.DataFrame:
    """The grids the notice is published to (``R`` in the module docstring): rows of ``grids``
    (columns ``code``, ``level``; extra columns kept), sorted by code."""
    require_columns(grids, ("code", "level"), name="grids")
    codes = grids["code"].astype(str).reset_index(drop=True)
    if notice.grid_codes:
        in_tree = codes.index.isin(match_prefix(codes, notice.grid_codes)["row"].unique())
    else:
        in_tree = pd.Series(True, index=codes.index).to_numpy()
    at_level = grids["level"].astype(int).isin(notice.levels).to_numpy() if notice.levels else True
    reached = grids.reset_index(drop=True).loc[in_tree & at_level]
    return reached.sort_values("code", kind="stable").reset_index(drop=True)


def notice_audience(notice: Notice, grids: pd.DataFrame, assignments: pd.DataFrame, *, on: dt.date) -> pd.DataFrame:
    """Staff expected to read the notice: ``staff_id`` with an assignment active on ``on`` on a
    grid it reaches, and (comma-joined) the ``grid_codes`` and ``roles`` concerned."""
    require_columns(assignments, ("staff_id", "grid_code", "role", "start_date", "end_date"), name="assignments")
    reached = set(notice_reach(notice, grids)["code"].astype(str))
    active = assignments.loc[active_on(assignments, on, on) & assignments["grid_code"].astype(str).isin(reached)]
    grouped = active.assign(staff_id=active["staff_id"].astype("int64")).groupby("staff_id")
    out = pd.DataFrame({
        "grid_codes": grouped["grid_code"].agg(lambda s: ",".join(sorted(set(map(str, s))))),
        "roles": grouped["role"].agg(lambda s: ",".join(sorted(set(map(str, s))))),
    })
    return out.reset_index()


def notices_for_grid(
    notices: Iterable[Notice], code: str, grids: pd.DataFrame, *, at: dt.datetime, scheme: CodeScheme | None = None,
    public_only: bool = True,
) -> list[Notice]:
    """Current notices shown for grid ``code`` (public page, contact card): published to it or an
    ancestor; newest first (then by id)."""
    scheme = scheme or default_scheme()
    lineage = set(scheme.ancestors_of(code)) | {code}
    shown = []
    for notice in notices:
        if public_only and not notice.public:
            continue
        if not is_current(notice, at):
            continue
        if lineage & set(notice_reach(notice, grids)["code"].astype(str)):
            shown.append(notice)
    return sorted(shown, key=lambda n: (-n.valid_from.timestamp(), n.id or 0))


def notices_for_staff(
    notices: Iterable[Notice], staff_id: int, grids: pd.DataFrame, assignments: pd.DataFrame, *, at: dt.datetime,
    timezone: str = "Asia/Shanghai",
) -> list[Notice]:
    """Current notices whose audience includes ``staff_id`` (the worker's home), newest first."""
    on = local_date(at, timezone)
    mine = []
    for notice in notices:
        if is_current(notice, at) and int(staff_id) in set(notice_audience(notice, grids, assignments, on=on)["staff_id"]):
            mine.append(notice)
    return sorted(mine, key=lambda n: (-n.valid_from.timestamp(), n.id or 0))


def read_receipts(audience: pd.DataFrame, reads: pd.DataFrame, *, notice_id: int) -> pd.DataFrame:
    """Who of ``audience`` (``staff_id`` …) has read notice ``notice_id``.

    ``reads`` has ``notice_id``, ``staff_id``, ``read_at`` (aware; the first read counts). The
    result is ``audience`` with ``read_at`` (NaT if not read) and ``read`` (bool), unread first.
    Reads by staff outside the audience are ignored.
    """
    require_columns(audience, ("staff_id",), name="audience")
    require_columns(reads, ("notice_id", "staff_id", "read_at"), name="reads")
    mine = reads.loc[reads["notice_id"] == notice_id]
    first = pd.DataFrame({"_staff": mine["staff_id"].astype("int64"), "read_at": pd.to_datetime(utc(mine["read_at"]), utc=True)})
    first = first.groupby("_staff", as_index=False)["read_at"].min()
    out = audience.assign(_staff=audience["staff_id"].astype("int64")).merge(first, on="_staff", how="left")
    out = out.drop(columns="_staff")
    out["read_at"] = pd.to_datetime(out["read_at"], utc=True)
    out["read"] = out["read_at"].notna()
    return out.sort_values(["read", "staff_id"], kind="stable").reset_index(drop=True)


def _level_words(translate: Translate, lang: str, level: int) -> str:
    try:
        return translate(f"level.{level}", lang)
    except KeyError:
        return translate("level.n", lang, level=level)


def wechat_text(
    notice: Notice,
    *,
    translate: Translate,
    lang: str = "zh",
    grid_names: Mapping[str, str] | None = None,
    timezone: str = "Asia/Shanghai",
) -> str:
    """The notice as plain text for a WeChat group: header with kind and title, validity, text,
    where it was sent, attachments. ``translate`` is :func:`i18n.catalogue.translate`."""
    names = grid_names or {}
    sep = translate("list.sep", lang)
    kind = translate(f"notice_kind.{notice.kind}", lang)
    last_day = local_date(notice.valid_to - dt.timedelta(microseconds=1), timezone)
    lines = [
        translate("notice.wechat.header", lang, kind=kind, title=notice.title),
        translate("notice.wechat.validity", lang, start=f"{local_date(notice.valid_from, timezone):%Y-%m-%d}", end=f"{last_day:%Y-%m-%d}"),
        "",
        notice.body.strip(),
        "",
    ]
    scope = [names.get(code, code) for code in notice.grid_codes]
    if notice.levels:
        scope.append(sep.join(_level_words(translate, lang, level) for level in notice.levels))
    lines.append(translate("notice.wechat.scope", lang, scope=sep.join(scope)))
    if notice.attachments:
        lines.append(translate("notice.wechat.attachments", lang, names=sep.join(a.name for a in notice.attachments)))
    return "\n".join(lines).strip() + "\n"
