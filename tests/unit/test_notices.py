"""Notices: validation, reach, current notices, read receipts, WeChat text."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from boundaries.coding import CodeScheme
from governance.notices import (
    Attachment,
    Notice,
    NoticeValidationError,
    is_current,
    notice_audience,
    notice_reach,
    notices_for_grid,
    notices_for_staff,
    read_receipts,
    validate_notice,
    wechat_text,
)
from i18n.catalogue import translate

SH = ZoneInfo("Asia/Shanghai")
SCHEME = CodeScheme((12, 3, 3))
C1, C2 = "110101001001", "110101001002"  # two communities (level 1)
G1, G2, G3 = C1 + "001", C1 + "002", C2 + "001"  # level 2
M11, M12, M21, M31 = G1 + "001", G1 + "002", G2 + "001", G3 + "001"  # micro-grids
FROM = dt.datetime(2026, 11, 1, 0, 0, tzinfo=SH)
TO = dt.datetime(2026, 12, 1, 0, 0, tzinfo=SH)
NOW = dt.datetime(2026, 11, 15, 9, 0, tzinfo=SH)


def grids() -> pd.DataFrame:
    codes = [C1, C2, G1, G2, G3, M11, M12, M21, M31]
    return pd.DataFrame({"code": codes, "level": [SCHEME.level_of(c) for c in codes], "name": [f"网格{c[-3:]}" for c in codes]})


def assignments() -> pd.DataFrame:
    rows = [(1, M11, "micro_worker"), (2, M12, "micro_worker"), (3, M21, "micro_worker"), (4, M31, "micro_worker"),
            (5, G1, "grid_head"), (6, C1, "liaison_leader"), (7, M11, "grid_police"), (8, M11, "micro_worker")]
    frame = pd.DataFrame(rows, columns=["staff_id", "grid_code", "role"])
    frame["start_date"] = dt.date(2026, 1, 1)
    frame["end_date"] = [None] * 7 + [dt.date(2026, 10, 31)]  # staff 8 left in October
    return frame


def notice(**kw) -> Notice:
    base = dict(id=1, kind="police_alert", title="防范电信诈骗提醒", body="近期冒充客服诈骗高发，请勿向陌生人转账。",
                valid_from=FROM, valid_to=TO, grid_codes=(C1,), author="街道综治中心")
    base.update(kw)
    return validate_notice(Notice(**base), scheme=SCHEME)


def test_validation_normalizes():
    n = notice(kind="警情通报", title="  标题 ", grid_codes=(G2, G1, G1), levels=(3, 3))
    assert (n.kind, n.title, n.grid_codes, n.levels) == ("police_alert", "标题", (G1, G2), (3,))


def test_validation_lists_every_problem():
    raw = Notice(None, "gossip", "x" * 61, "<p>hello</p>", TO, FROM, grid_codes=("123",), levels=(7,),
                 attachments=(Attachment("", "javascript:alert(1)"),) * 11, author="")
    with pytest.raises(NoticeValidationError) as info:
        validate_notice(raw, scheme=SCHEME)
    fields = [f["field"] for f in info.value.findings]
    assert set(fields) == {"kind", "title", "body", "valid_to", "grid_codes", "levels", "attachments", "author"}


@pytest.mark.parametrize("change, words", [
    (dict(grid_codes=(), levels=()), "choose the grids or the levels"),
    (dict(title="两行\n标题"), "one line"),
    (dict(body=""), "no text"),
    (dict(body="字" * 2001), "at most 2000"),
    (dict(valid_to=dt.datetime(2026, 12, 1)), "time zone"),
])
def test_single_problems(change, words):
    with pytest.raises(NoticeValidationError, match=words):
        notice(**change)


def test_plain_text_with_angle_brackets_is_fine():
    assert notice(body="气温 < 0℃ 时注意防冻，3 > 2").body.startswith("气温")


def test_attachments():
    n = notice(attachments=(Attachment(" 政策原文.pdf ", "notices/1/policy.pdf"), Attachment("链接", "https://gov.cn/x")))
    assert n.attachments[0] == Attachment("政策原文.pdf", "notices/1/policy.pdf")


# -- reach ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("codes, levels, reached", [
    ((C1,), (), [C1, G1, M11, M12, G2, M21]),
    ((), (3,), [M11, M12, M21, M31]),
    ((C1,), (3,), [M11, M12, M21]),
    ((G1, G3), (2,), [G1, G3]),
    ((), (1, 2), [C1, C2, G1, G2, G3]),
])
def test_reach(codes, levels, reached):
    assert notice_reach(notice(grid_codes=codes, levels=levels), grids())["code"].tolist() == sorted(reached)


def test_audience_is_the_staff_of_reached_grids_on_the_day():
    audience = notice_audience(notice(), grids(), assignments(), on=NOW.date())
    assert audience["staff_id"].tolist() == [1, 2, 3, 5, 6, 7]  # 4 is in C2; 8 has left
    row = audience.set_index("staff_id").loc[1]
    assert (row["grid_codes"], row["roles"]) == (M11, "micro_worker")
    heads = notice_audience(notice(levels=(2,)), grids(), assignments(), on=NOW.date())
    assert heads["staff_id"].tolist() == [5]


def test_current_notices():
    n = notice()
    assert is_current(n, FROM) and is_current(n, NOW)
    assert not is_current(n, TO) and not is_current(n, FROM - dt.timedelta(seconds=1))


def test_public_grid_page_shows_notices_of_the_grid_and_its_ancestors():
    street = notice(id=1, grid_codes=(C1,), levels=(1,))  # published to the community only
    micro = notice(id=2, grid_codes=(M11,), valid_from=FROM + dt.timedelta(days=1))
    internal = notice(id=3, kind="street_work", public=False)
    expired = notice(id=4, valid_to=NOW)
    other = notice(id=5, grid_codes=(C2,))
    everything = [street, micro, internal, expired, other]
    shown = notices_for_grid(everything, M11, grids(), at=NOW, scheme=SCHEME)
    assert [n.id for n in shown] == [2, 1]  # newest first
    assert [n.id for n in notices_for_grid(everything, M12, grids(), at=NOW, scheme=SCHEME)] == [1]
    assert [n.id for n in notices_for_grid(everything, M11, grids(), at=NOW, scheme=SCHEME, public_only=False)] == [2, 1, 3]


def test_workers_home_shows_their_current_notices():
    everything = [notice(id=1), notice(id=2, grid_codes=(C2,)), notice(id=3, levels=(2,)), notice(id=4, valid_from=TO, valid_to=TO + dt.timedelta(days=9))]
    assert [n.id for n in notices_for_staff(everything, 1, grids(), assignments(), at=NOW)] == [1]
    assert [n.id for n in notices_for_staff(everything, 5, grids(), assignments(), at=NOW)] == [1, 3]
    assert [n.id for n in notices_for_staff(everything, 4, grids(), assignments(), at=NOW)] == [2]


# -- read receipts -------------------------------------------------------------------------------------


def test_read_receipts_list_who_has_not_read():
    audience = notice_audience(notice(), grids(), assignments(), on=NOW.date())
    reads = pd.DataFrame({
        "notice_id": [1, 1, 1, 2, 1],
        "staff_id": [2, 5, 2, 1, 4],  # 2 read twice; 1 read another notice; 4 is outside the audience
        "read_at": [pd.Timestamp("2026-11-03 09:00", tz=SH), pd.Timestamp("2026-11-02 08:00", tz=SH),
                    pd.Timestamp("2026-11-01 08:00", tz=SH), pd.Timestamp("2026-11-03", tz=SH), pd.Timestamp("2026-11-03", tz=SH)],
    })
    receipts = read_receipts(audience, reads, notice_id=1)
    assert receipts.loc[~receipts["read"], "staff_id"].tolist() == [1, 3, 6, 7]
    assert receipts.loc[receipts["read"], "staff_id"].tolist() == [2, 5]
    first = receipts.set_index("staff_id").loc[2, "read_at"]
    assert first == pd.Timestamp("2026-11-01 08:00", tz=SH)
    assert 4 not in set(receipts["staff_id"])


def test_read_receipts_with_no_reads():
    audience = pd.DataFrame({"staff_id": [3, 1]})
    receipts = read_receipts(audience, pd.DataFrame({"notice_id": [], "staff_id": [], "read_at": []}), notice_id=1)
    assert receipts["staff_id"].tolist() == [1, 3] and not receipts["read"].any()


# -- WeChat text ---------------------------------------------------------------------------------------


def test_wechat_text_is_plain_and_complete():
    n = notice(attachments=(Attachment("反诈指南.pdf", "notices/1/a.pdf"),), levels=(3,))
    text = wechat_text(n, translate=translate, grid_names={C1: "幸福社区"})
    assert text == (
        "【警情通报】防范电信诈骗提醒\n"
        "有效期：2026-11-01 至 2026-11-30\n"
        "\n"
        "近期冒充客服诈骗高发，请勿向陌生人转账。\n"
        "\n"
        "发布范围：幸福社区、微网格\n"
        "附件：反诈指南.pdf\n"
    )
    assert "<" not in text
    english = wechat_text(n, translate=translate, lang="en")
    assert english.startswith("[Police alert] ") and f"Sent to: {C1}, Micro-grids" in english


def test_notice_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice().title = "x"  # type: ignore[misc]
