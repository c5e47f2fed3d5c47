"""Boundary editor (编辑网格边界): draw an edit, preview its impact, save it as a version.

The page only translates between widgets and :mod:`services.editing` (draft → preview → save);
every geometry rule lives in :mod:`boundaries` and every query in :mod:`etl`. State kept
across reruns in ``st.session_state``:

``editor.draft``     the :class:`services.editing.EditDraft` (plan + versions: the optimistic-lock token)
``editor.preview``   the last :class:`services.editing.EditPreview` (or ``None``)
``editor.refused``   ``(message, findings)`` of the last refused preview (or ``None``)
``editor.drawings``  the geometries drawn on the map, converted to EPSG:4490
``editor.saved``     the last save's summary (shown once)

Geometries come from the map's leaflet-draw toolbar or, as a fallback (and for tests), from
WKT in EPSG:4490 typed into the text area (``editor.wkt``), which wins when filled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from shapely.geometry.base import BaseGeometry
from streamlit_folium import st_folium

from app_pages import common, maps
from app_pages.i18n import current_language, describe, draw_local, label_of, t
from boundaries.edits import EditRefused
from services.editing import (
    EditPreview,
    grids_under,
    preview_edit,
    save_edit,
    start_edit,
    worker_workload,
)
from boundaries.edits.catalogue import OPERATIONS as EDIT_OPERATIONS
from gis import webmap
from gis.crs import STORAGE_EPSG
from gis.errors import GridGovError, StaleVersionError, ValidationError
from i18n import describe_finding
from services.overview import disclose_impact, disclose_worker_load

logger = logging.getLogger(__name__)

#: Operations offered, in menu order (the catalogue's order).
OPERATIONS = tuple(EDIT_OPERATIONS)
#: What each operation needs drawn: a line, an area, either, several areas, or nothing (from the catalogue).
GEOMETRY_KIND: dict[str, str | None] = {name: op.geometry_kind for name, op in EDIT_OPERATIONS.items()}
DRAW_SHAPES: dict[str | None, tuple[str, ...]] = {
    "line": ("polyline",), "area": ("polygon", "rectangle"), "line_or_area": ("polyline", "polygon", "rectangle"),
    "areas": ("polygon", "rectangle"), None: ("polyline", "polygon", "rectangle"),
}
MAP_HEIGHT = 520
AUTO = ""  # selectbox value: "take the grid from the drawing"

_RESET_KEYS = ("editor.preview", "editor.refused", "editor.drawings", "editor.wkt", "editor.reason")


def _defaults() -> None:
    if st.session_state.pop("editor.reset", False):
        for key in _RESET_KEYS:
            st.session_state.pop(key, None)
        st.session_state["editor.round"] = st.session_state.get("editor.round", 0) + 1
    st.session_state.setdefault("editor.preview", None)
    st.session_state.setdefault("editor.refused", None)
    st.session_state.setdefault("editor.drawings", [])
    st.session_state.setdefault("editor.round", 0)


def _draft():
    """The edit draft, started once and kept across reruns (its versions are the lock token)."""
    if st.session_state.get("editor.draft") is None:
        with common.connect() as conn:
            st.session_state["editor.draft"] = start_edit(conn)
    return st.session_state["editor.draft"]


def _restart() -> None:
    st.session_state["editor.draft"] = None
    st.session_state["editor.reset"] = True


# -- geometry input ------------------------------------------------------------------------------


def _wkt_geometries(text_value: str) -> list[BaseGeometry]:
    """Geometries typed as WKT (EPSG:4490); collections and multi-geometries of areas give parts."""
    geom = shapely.from_wkt(text_value.strip())
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "GeometryCollection":
        return list(shapely.get_parts(geom))
    return [geom]


def _geometries(kind: str | None) -> list[BaseGeometry]:
    """The geometries for the edit: the WKT fallback if filled, else what was drawn."""
    wkt = st.session_state.get("editor.wkt", "") or ""
    if wkt.strip():
        geoms = _wkt_geometries(wkt)
        if kind == "areas" and len(geoms) == 1 and geoms[0].geom_type == "MultiPolygon":
            geoms = list(shapely.get_parts(geoms[0]))
        return geoms
    return list(st.session_state.get("editor.drawings") or [])


def _pick(geoms: list[BaseGeometry], kind: str | None) -> BaseGeometry | None:
    """The one geometry an operation uses: the last drawn one of the right type."""
    wanted = {"line": ("LineString", "MultiLineString"), "area": ("Polygon", "MultiPolygon"),
              "line_or_area": ("LineString", "MultiLineString", "Polygon", "MultiPolygon")}.get(kind or "", ())
    for geom in reversed(geoms):
        if geom.geom_type in wanted:
            return geom
    return None


def _store_drawings(state: dict[str, Any] | None, basemap: webmap.Basemap) -> None:
    drawings = (state or {}).get("all_drawings")
    if drawings is None:
        return
    geoms = []
    for feature in drawings:
        try:
            geoms.append(webmap.geometry_from_display(feature, basemap=basemap))
        except GridGovError:
            continue
    st.session_state["editor.drawings"] = geoms


# -- parameters ----------------------------------------------------------------------------------


def _code_label(names: dict[str, str]):
    def label(code: str) -> str:
        if code == AUTO:
            return t("editor.auto")
        return f"{code} {names.get(code, '')}".strip()

    return label


def _select_code(label_key: str, options: list[str], names: dict[str, str], key: str, *, auto: bool = True) -> str:
    if auto:
        values = [AUTO] + options
        return st.selectbox(t(label_key), options=values, format_func=_code_label(names), key=key) or AUTO
    return st.selectbox(t(label_key), options=options, format_func=_code_label(names), key=key, index=None,
                        placeholder=t("editor.choose")) or AUTO


def _parameters(operation: str, plan: gpd.GeoDataFrame, geoms: list[BaseGeometry]) -> dict[str, Any]:
    """Widgets for the operation's own parameters; returns them (grids may come from the drawing).

    Raises
    ------
    ValidationError
        Something required is missing; the message says what.
    """
    kind = GEOMETRY_KIND[operation]
    names = dict(zip(plan["code"].astype(str), plan["name"].astype(str)))
    leaf = _leaf_codes(plan)
    parents = sorted(set(plan["parent_code"].dropna().astype(str)))
    geom = _pick(geoms, kind)
    suggested = grids_under(plan, geom) if geom is not None else []
    cols = st.columns(2)

    def need_geom() -> BaseGeometry:
        if geom is None:
            raise ValidationError(t("editor.need_geometry." + (kind or "line")))
        return geom

    def first(value: str, k: int, what: str) -> str:
        if value != AUTO:
            return value
        if len(suggested) > k:
            return suggested[k]
        raise ValidationError(t("editor.need_code", what=t(what)))

    if operation == "split":
        with cols[0]:
            code = _select_code("editor.grid", sorted(plan["code"].astype(str)), names, "editor.split_code")
        line = need_geom()
        return {"code": first(code, 0, "editor.grid"), "line": line}
    if operation == "merge":
        with cols[0]:
            codes = st.multiselect(t("editor.merge_codes"), options=leaf + parents, format_func=_code_label(names),
                                   key="editor.merge_codes")
        codes = list(codes) or suggested
        if len(codes) < 2:
            raise ValidationError(t("editor.need_two"))
        return {"codes": codes}
    if operation == "reshape":
        with cols[0]:
            a = _select_code("editor.code_a", leaf, names, "editor.reshape_a")
        with cols[1]:
            b = _select_code("editor.code_b", leaf, names, "editor.reshape_b")
        new = need_geom()
        return {"code_a": first(a, 0, "editor.code_a"), "code_b": first(b, 1, "editor.code_b"), "new_line_or_area": new}
    if operation == "transfer":
        with cols[0]:
            giver = _select_code("editor.from_code", leaf, names, "editor.transfer_from")
        with cols[1]:
            receiver = _select_code("editor.to_code", leaf, names, "editor.transfer_to")
        area = need_geom()
        giver = first(giver, 0, "editor.from_code")
        if receiver == AUTO:
            others = [c for c in suggested if c != giver]
            if not others:
                raise ValidationError(t("editor.need_code", what=t("editor.to_code")))
            receiver = others[0]
        return {"from_code": giver, "to_code": receiver, "area": area}
    if operation == "reshape_grid":
        with cols[0]:
            code = _select_code("editor.grid", leaf, names, "editor.reshape_grid_code")
        return {"code": first(code, 0, "editor.grid"), "geometry": need_geom()}
    if operation == "annex":
        with cols[0]:
            parent = _select_code("editor.parent", parents, names, "editor.annex_parent", auto=False)
        with cols[1]:
            name = st.text_input(t("editor.new_name"), key="editor.annex_name")
        if parent == AUTO:
            raise ValidationError(t("editor.need_code", what=t("editor.parent")))
        return {"parent_code": parent, "area": need_geom(), "name": name.strip() or None}
    if operation == "replace":
        with cols[0]:
            parent = _select_code("editor.parent", parents, names, "editor.replace_parent", auto=False)
        areas = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if parent == AUTO:
            raise ValidationError(t("editor.need_code", what=t("editor.parent")))
        if not areas:
            raise ValidationError(t("editor.need_geometry.areas"))
        return {"parent_code": parent, "new_children_geoms": areas}
    raise ValidationError(f"operation was {operation!r} but is expected to be one of {list(OPERATIONS)}")


def _codes_of(params: dict[str, Any]) -> list[str]:
    keys = ("code", "code_a", "code_b", "from_code", "to_code", "parent_code")
    return [str(params[k]) for k in keys if isinstance(params.get(k), str)] + list(params.get("codes", []))


def _leaf_codes(plan: gpd.GeoDataFrame) -> list[str]:
    from boundaries.model import leaf_mask

    return sorted(plan.loc[leaf_mask(plan), "code"].astype(str))


# -- maps ------------------------------------------------------------------------------------------


def _edit_map(
    plan: gpd.GeoDataFrame,
    *,
    basemap: webmap.Basemap,
    highlight: Sequence[str] = (),
    drawn: Sequence[BaseGeometry] = (),
    findings: gpd.GeoDataFrame | None = None,
    moved: gpd.GeoDataFrame | None = None,
    draw_shapes: tuple[str, ...] = (),
) -> folium.Map:
    """A plan map (EPSG:4490 in) with the touched grids outlined, drawings, findings, moved points."""
    fmap = maps.grid_map(plan, tr=t, basemap=basemap, labels=True, layer_control=False)
    touched = plan[plan["code"].isin(list(highlight))]
    if len(touched):
        webmap.add_polygon_layer(
            fmap, webmap.to_display(touched, basemap=basemap), key="edit-touched", name=t("editor.layer_touched"),
            tooltip_fields=["code", "name"], tooltip_aliases=[t("field.code"), t("field.name")],
            style={"weight": 3, "color": "#f97316", "fillColor": "#fed7aa", "fillOpacity": 0.35},
        )
        minx, miny, maxx, maxy = maps.display_bounds(touched[touched["level"] == touched["level"].max()],
                                                     basemap=basemap)
        fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding=(30, 30))  # zoom to the edited grids
    if drawn:
        sketch = gpd.GeoDataFrame({"what": [t("editor.layer_drawn")] * len(drawn)}, geometry=list(drawn),
                                  crs=STORAGE_EPSG)
        webmap.add_polygon_layer(
            fmap, webmap.to_display(sketch, basemap=basemap), key="edit-drawn", name=t("editor.layer_drawn"),
            style={"weight": 3, "color": "#dc2626", "dashArray": "4 4", "fillOpacity": 0.1}, interactive=False,
        )
    if findings is not None and len(findings):
        shown = findings[findings.geometry.notna() & ~findings.geometry.is_empty]
        if len(shown):
            shown = _worded_findings(shown[[c for c in ("rule", "codes", "message", "geometry") if c in shown.columns]])
            shown = shown[["rule", "message", "geometry"]]
            webmap.add_polygon_layer(
                fmap, webmap.to_display(shown, basemap=basemap), key="edit-findings", name=t("editor.layer_findings"),
                tooltip_fields=["rule", "message"], tooltip_aliases=[t("editor.rule"), t("editor.message")],
                style={"weight": 3, "color": "#b91c1c", "fillColor": "#ef4444", "fillOpacity": 0.5},
            )
    if moved is not None and len(moved):
        webmap.add_point_layer(
            fmap, webmap.to_display(moved, basemap=basemap), key="edit-moved", name=t("editor.layer_moved"),
            tooltip_fields=["household_key", "from_code", "to_code"],
            tooltip_aliases=[t("editor.household"), t("editor.from"), t("editor.to")], color="#7c3aed", radius=4,
        )
    folium.LayerControl(collapsed=True).add_to(fmap)  # last: it names every layer above
    if draw_shapes:
        webmap.add_draw_control(fmap, shapes=draw_shapes, local=draw_local())
    return webmap.assert_offline(fmap)


def _moved_points(preview: EditPreview, households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    moved = preview.impact.households[["household_key", "from_code", "to_code"]]
    joined = households[["household_key", "geometry"]].merge(moved, on="household_key", how="inner")
    joined = joined.fillna({"from_code": "-", "to_code": "-"})
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=households.crs)


# -- preview and save ---------------------------------------------------------------------------


def _codes_list(codes: object) -> list[str]:
    if isinstance(codes, str):
        return [c for c in codes.split(",") if c]
    if isinstance(codes, (list, tuple)):
        return [str(c) for c in codes]
    return []


def _worded_findings(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings with their rule, severity and message in the session language (never the English message)."""
    lang = current_language()
    out = frame.copy()
    if "message" in out.columns:
        out["message"] = [describe_finding(str(rule), lang, codes=_codes_list(codes))
                          for rule, codes in zip(out["rule"], out.get("codes", [()] * len(out)))]
    if "codes" in out.columns:
        out["codes"] = out["codes"].map(lambda c: t("list.sep").join(_codes_list(c)))
    if "severity" in out.columns:
        out["severity"] = out["severity"].map(lambda v: label_of("severity", v))
    out["rule"] = out["rule"].map(lambda v: label_of("rule", v))
    if "area_m2" in out.columns:
        out["area_m2"] = out["area_m2"].map(lambda v: "" if v is None or pd.isna(v) else f"{float(v):,.1f}")
    return out


def _show_findings(records: list[dict[str, Any]]) -> None:
    if not records:
        return
    table = pd.DataFrame(records)
    cols = [c for c in ("severity", "rule", "codes", "message", "area_m2") if c in table.columns]
    table = _worded_findings(table[cols])
    common.dataframe(table.rename(columns={c: t(f"editor.col.{c}") for c in cols}), hide_index=True, width="stretch")


def _report_summary(report: Any) -> str:
    """How many problems of which rules, in the session language."""
    rules = sorted({f.rule for f in report.errors}) or sorted({f.rule for f in report.findings})
    return t("editor.invalid_summary", count=len(report.errors),
             rules=t("list.sep").join(label_of("rule", r) for r in rules))


def _show_impact(preview: EditPreview, points: dict[str, Any]) -> None:
    actor = common.current_actor()
    impact = disclose_impact(preview.impact, actor)  # small special-household counts: the grid's own people only
    counts = impact.counts
    cols = st.columns(5)
    cols[0].metric(t("editor.moved_households"), counts["households_moved"])
    cols[1].metric(t("editor.moved_residents"), counts["residents_moved"])
    cols[2].metric(t("editor.moved_special"), common.shown_count(counts["special_households_moved"]))
    cols[3].metric(t("editor.moved_incidents"), counts["incidents_moved"])
    cols[4].metric(t("editor.staff_affected"), counts["staff_assignments_affected"])
    st.markdown(f"**{t('editor.flows')}**")
    if len(impact.flows):
        flows = common.shown_counts(impact.flows, ["special_households"]).rename(columns={
            "from_code": t("editor.from"), "to_code": t("editor.to"), "households": t("card.households"),
            "residents": t("card.residents"), "special_households": t("card.special")})
        common.dataframe(flows, hide_index=True, width="stretch")
        for f, to, n in zip(impact.flows["from_code"], impact.flows["to_code"], impact.flows["households"]):
            st.caption(t("editor.flow_line", source=f, target=to, count=int(n)))
    else:
        st.caption(t("editor.no_moves"))
    if len(impact.incidents):
        inc = impact.incidents.fillna({"from_code": "-", "to_code": "-"}).groupby(
            ["from_code", "to_code"]).size().reset_index(name="n")
        st.markdown(f"**{t('editor.incident_flows')}**")
        common.dataframe(inc.rename(columns={"from_code": t("editor.from"), "to_code": t("editor.to"),
                                         "n": t("editor.count")}), hide_index=True, width="stretch")
    if len(impact.staff):
        st.markdown(f"**{t('editor.staff_review')}**")
        staff = impact.staff.assign(successors=impact.staff["successors"].map(lambda s: ", ".join(s or [])))
        common.dataframe(staff, hide_index=True, width="stretch")

    st.markdown(f"**{t('editor.balance_grids')}**")
    common.dataframe(_balance_table(impact.balance), width="stretch")
    touched = sorted(set(preview.result.added) | set(preview.result.reshaped) | set(preview.result.retired))
    before = common.shown_counts(impact.workload_before.reindex(
        [c for c in touched if c in impact.workload_before.index]), ["special_households"])
    after = common.shown_counts(impact.workload_after.reindex(
        [c for c in touched if c in impact.workload_after.index]), ["special_households"])
    if len(before) or len(after):
        grid_table = pd.concat({t("editor.before"): before, t("editor.after"): after}, axis=1)
        common.dataframe(grid_table, width="stretch")
    table, balance = disclose_worker_load(
        *worker_workload(preview.impact, points.get("staff_assignments"), lineage=preview.result.lineage), actor,
        {*preview.impact.workload_before.index, *preview.impact.workload_after.index})
    st.markdown(f"**{t('editor.balance_workers')}**")
    common.dataframe(_balance_table(balance), width="stretch")
    changed = table[(table["households_before"] != table["households_after"])
                    | (table["grids_before"] != table["grids_after"])]
    if len(changed):
        common.dataframe(common.shown_counts(changed, ["special_households_before", "special_households_after"]),
                         hide_index=True, width="stretch")


def _staff_editor(preview: EditPreview) -> EditPreview:
    """The staff of the affected grids and where each goes; the planner changes the 去向 column.

    Returns the preview with the planner's choices (kept in ``editor.preview`` so saving uses them)."""
    moves = preview.staff_moves
    if not len(moves):
        st.caption(t("editor.staff_none"))
        return preview
    st.markdown(f"**{t('editor.staff_moves', count=len(moves))}**")
    st.caption(t("editor.staff_moves_help"))

    def joined(codes: Sequence[str]) -> str:
        return " + ".join(codes)

    choices: list[str] = []
    for to, options in zip(moves["to_codes"], moves["options"]):
        for value in (joined(to), *options, joined(options)):
            if value and value not in choices:
                choices.append(value)
    col_to = t("editor.staff_to")
    table = pd.DataFrame({
        t("editor.staff_name"): moves["name"].to_numpy(),
        t("field.role"): [label_of("role", r) for r in moves["role"]],
        t("editor.staff_from"): moves["from_code"].to_numpy(),
        col_to: [joined(to) for to in moves["to_codes"]],
        t("editor.staff_rule"): [t(f"editor.staff_rule.{r}") for r in moves["rule"]],
    })
    edited = st.data_editor(
        table, hide_index=True, width="stretch", key=f"editor.staff.{st.session_state['editor.round']}",
        disabled=[c for c in table.columns if c != col_to],
        column_config={col_to: st.column_config.SelectboxColumn(col_to, options=choices, required=True)},
    )
    picked = {int(a): [c.strip() for c in str(v).split("+") if c.strip()]
              for a, v, old in zip(moves["assignment_id"], edited[col_to], table[col_to]) if v != old}
    if picked:
        try:
            preview = preview.with_staff_choices(picked)
            st.session_state["editor.preview"] = preview
        except ValidationError as exc:
            st.error(t("editor.staff_choice_bad", error=exc))
    flags = preview.staff_flags
    if len(flags):
        st.markdown(f"**{t('editor.staff_flags', count=len(flags))}**")
        common.dataframe(pd.DataFrame({
            t("field.grid"): flags["grid_code"].to_numpy(),
            t("field.role"): [label_of("role", r) for r in flags["role"]],
            t("editor.staff_flag_col"): [t(f"editor.staff_flag.{s}") for s in flags["status"]],
            t("editor.staff_by"): flags["staff"].to_numpy(),
        }), hide_index=True, width="stretch")
    return preview


def _balance_table(balance: pd.DataFrame) -> pd.DataFrame:
    out = balance.round(3)
    special = "special_households"
    if special in out.index:  # a min or max suppressed as a small count (the mean of its side is still there)
        suppressed = [c for c in out.columns if c[-1] in ("min", "max") and pd.isna(out.at[special, c])
                      and pd.notna(out.at[special, (c[0], "mean")])]
        if suppressed:
            out = out.astype(object).where(out.notna(), "-")
            for column in suppressed:
                out.at[special, column] = common.shown_count(None)
            out = out.map(str)
    out.index = [t(f"editor.metric.{m}") for m in out.index]
    out.columns = [f"{t('editor.' + a)} {t('editor.stat.' + b)}" for a, b in out.columns]
    return out


def _save(preview: EditPreview, reason: str) -> None:
    if not reason.strip():
        st.error(t("editor.reason_required"))
        return
    try:
        applied = save_edit(common.get_engine(), preview, actor=common.current_actor(), reason=reason.strip())
    except StaleVersionError as exc:
        st.error(t("editor.conflict", error=exc))
        return
    except GridGovError as exc:
        st.error(t("editor.save_failed", error=exc))
        return
    common.clear_caches()
    summary = applied.to_dict()
    summary["households_total"] = sum(applied.households_moved.values())
    summary["touched"] = sorted(set(applied.changes.added) | set(applied.changes.reshaped))
    moved = preview.staff_moves
    summary["staff"] = [(n, r, f, list(to)) for n, r, f, to in zip(moved["name"], moved["role"], moved["from_code"],
                                                                  moved["to_codes"]) if tuple(to) != (f,)]
    st.session_state["editor.saved"] = summary
    _restart()
    st.rerun()


def _saved_result(plan: gpd.GeoDataFrame, saved: dict[str, Any], basemap: webmap.Basemap) -> None:
    """The saved changeset's result: the stored plan zoomed to the changed grids, and who moved."""
    st.markdown(f"**{t('editor.saved_result', id=saved['changeset_id'])}**")
    for name, role, source, target in saved.get("staff", []):
        st.caption(t("editor.saved_staff", name=name, role=label_of("role", role), source=source,
                     target=" + ".join(target)))
    st_folium(_edit_map(plan, basemap=basemap, highlight=saved.get("touched", [])),
              key=f"editor.saved_map.{saved['changeset_id']}", height=MAP_HEIGHT, use_container_width=True,
              returned_objects=[])


def render() -> None:
    _defaults()
    st.title(t("editor.title"))
    basemap = common.current_basemap()
    token = common.data_token()
    saved = st.session_state.pop("editor.saved", None)
    if saved:
        st.success(t("editor.saved", id=saved["changeset_id"], added=", ".join(saved["added"]) or "-",
                     retired=", ".join(saved["retired"]) or "-", moved=saved["households_total"]))
    draft = _draft()
    if saved:
        _saved_result(draft.plan, saved, basemap)
    top = st.columns([3, 1], vertical_alignment="bottom")
    operation = top[0].selectbox(t("editor.operation"), options=list(OPERATIONS),
                                 format_func=lambda op: t(f"editor.op.{op}"), key="editor.operation")
    if top[1].button(t("editor.restart"), key="editor.restart"):
        _restart()
        st.rerun()
    st.caption(t(f"editor.help.{operation}"))
    st.caption(t("editor.draft_info", at=f"{draft.started_at:%Y-%m-%d %H:%M:%S}", grids=len(draft.plan)))
    kind = GEOMETRY_KIND[operation]
    plan = draft.plan
    preview: EditPreview | None = st.session_state["editor.preview"]
    if preview is not None and preview.operation != operation:
        preview = None

    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('editor.current_map')}**")
        # The drawing map depends only on the plan and the operation, so it is not rebuilt
        # (which would wipe the drawings in the browser) while parameters change.
        state = st_folium(
            _edit_map(plan, basemap=basemap, draw_shapes=DRAW_SHAPES[kind]),
            key=f"editor.map.{st.session_state['editor.round']}", height=MAP_HEIGHT, use_container_width=True,
            returned_objects=["all_drawings", "last_active_drawing"],
        )
        _store_drawings(state, basemap)
    with st.expander(t("editor.wkt_expander"), expanded=bool(st.session_state.get("editor.wkt"))):
        st.text_area(t("editor.wkt"), key="editor.wkt", height=100)
    params: dict[str, Any] | None = None
    problem: str | None = None
    try:
        geoms = _geometries(kind)
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:  # malformed WKT: say so, in words
        logger.info("editor: unreadable WKT: %s", exc)
        geoms, problem = [], t("editor.bad_wkt")
    try:
        params = _parameters(operation, plan, geoms) if problem is None else None
    except ValidationError as exc:
        problem = str(exc) if not exc.code or exc.code == "invalid" else t("editor.refused", error=exc)
    except (shapely.errors.GEOSException, ValueError):
        problem = t("editor.bad_wkt")
    if problem:
        st.info(problem)
    elif params:
        st.caption(t("editor.target", codes=t("list.sep").join(_codes_of(params))))

    points = common.load_edit_points(token, common.user_scope())
    if st.button(t("editor.preview"), key="editor.preview_button", type="primary", disabled=params is None):
        st.session_state["editor.refused"] = None
        st.session_state["editor.preview"] = None
        try:
            with common.connect() as conn:
                preview = preview_edit(conn, draft, operation, points=points, **(params or {}))
            st.session_state["editor.preview"] = preview
        except EditRefused as exc:
            preview = None
            st.session_state["editor.refused"] = (describe(exc), [f.to_record() for f in exc.findings],
                                                  [f.geometry for f in exc.findings])
        except GridGovError as exc:
            preview = None
            findings = list(getattr(exc, "findings", None) or [])
            st.session_state["editor.refused"] = (describe(exc), [f.to_record() for f in findings],
                                                  [f.geometry for f in findings])

    refused = st.session_state["editor.refused"]
    with right:
        st.markdown(f"**{t('editor.proposed_map')}**")
        if preview is not None:
            findings = preview.report.to_geodataframe()
            touched = sorted(set(preview.result.added) | set(preview.result.reshaped))
            st_folium(
                _edit_map(preview.plan, basemap=basemap, highlight=touched, findings=findings,
                          moved=_moved_points(preview, points["households"])),
                key=f"editor.preview_map.{st.session_state['editor.round']}", height=MAP_HEIGHT,
                use_container_width=True, returned_objects=[],
            )
        elif refused is not None:
            geoms_bad = [g for g in refused[2] if g is not None and not g.is_empty]
            findings = gpd.GeoDataFrame(
                {"rule": [r["rule"] for r, g in zip(refused[1], refused[2]) if g is not None and not g.is_empty],
                 "codes": [",".join(r.get("codes") or ()) for r, g in zip(refused[1], refused[2])
                           if g is not None and not g.is_empty],
                 "message": [r["message"] for r, g in zip(refused[1], refused[2]) if g is not None and not g.is_empty]},
                geometry=geoms_bad, crs=STORAGE_EPSG,
            ) if geoms_bad else None
            st_folium(
                _edit_map(plan, basemap=basemap, findings=findings), key=f"editor.refused_map.{st.session_state['editor.round']}",
                height=MAP_HEIGHT, use_container_width=True, returned_objects=[],
            )
        else:
            st.info(t("editor.no_preview"))

    if refused is not None:
        st.error(t("editor.refused", error=refused[0]))
        _show_findings(refused[1])
    if preview is None:
        return
    st.subheader(t("editor.preview_title"))
    result = preview.result
    st.markdown(t("editor.changes", added=", ".join(result.added) or "-", retired=", ".join(result.retired) or "-",
                  reshaped=", ".join(result.reshaped) or "-"))
    if preview.can_save:
        st.success(t("editor.valid"))
    else:
        st.error(t("editor.invalid", summary=_report_summary(preview.report)))
    _show_findings([f.to_record() for f in preview.report.findings])
    _show_impact(preview, points)
    preview = _staff_editor(preview)

    st.subheader(t("editor.save_title"))
    reason = st.text_input(t("editor.reason"), key="editor.reason")
    if not preview.can_save:
        st.warning(t("editor.cannot_save"))
    if st.button(t("editor.save"), key="editor.save", type="primary", disabled=not preview.can_save):
        _save(preview, reason)
