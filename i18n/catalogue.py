"""The one string catalogue: every word a person sees, in zh-CN (default) and English.

Pages (through :func:`app_pages.i18n.t`, in the session's language), the files GridGov writes
(reports, contact cards, spreadsheets: :func:`translate` with the language asked for) and the
messages of domain errors shown to people all take their words from here. Every key has both
languages (``tests/unit/test_i18n.py`` checks it, and that page modules contain no literal
Chinese). Domain codes (roles, statuses, categories …) get their labels from
:mod:`governance.vocab` under ``role.``, ``status.``, ``category.`` … keys.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from typing import Any

__all__ = ["LANGUAGES", "CATALOGUE", "translate", "label", "duration", "describe_error", "describe_finding", "error_key"]

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    # -- app shell ---------------------------------------------------------------------
    "app.title": {"zh": "网格化治理平台", "en": "GridGov grid governance"},
    "app.language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "app.db_error": {
        "zh": "无法连接数据库，请稍后再试或联系系统管理员。（{error}）",
        "en": "Cannot reach the database; try again later or ask the administrator. ({error})",
    },
    "app.failed": {
        "zh": "操作未完成，未写入任何内容：{error}",
        "en": "This did not complete and nothing was written: {error}",
    },
    "app.internal_error": {
        "zh": "页面出错，未写入任何内容。请刷新页面；若仍出错，请联系管理员并告知错误编号 {id}。",
        "en": "The page failed; nothing was written. Reload the page; if it happens again, tell the administrator error id {id}.",
    },
    "roster.stale": {
        "zh": "未保存：预览之后他人已修改这些人员的花名册。请重新上传文件。详情：{error}",
        "en": "Not saved: someone changed these people's roster after the preview. Upload the file again. Details: {error}",
    },
    "app.basemap_error": {
        "zh": "底图配置有误（{error}），已改为无底图显示。",
        "en": "The basemap is misconfigured ({error}); showing no basemap instead.",
    },
    "app.refresh": {"zh": "刷新数据", "en": "Reload data"},
    "app.logout": {"zh": "退出登录", "en": "Log out"},
    "app.account": {"zh": "当前账号：{name}（{role}）", "en": "Signed in as {name} ({role})"},
    "login.title": {"zh": "请登录", "en": "Please log in"},
    "admin.title": {"zh": "审计与账号", "en": "Audit and accounts"},
    "admin.audit": {"zh": "审计记录", "en": "Audit trail"},
    "admin.accounts": {"zh": "账号", "en": "Accounts"},
    "admin.account": {"zh": "账号", "en": "Account"},
    "admin.action": {"zh": "操作", "en": "Action"},
    "admin.since": {"zh": "起始日期", "en": "Since"},
    "admin.at": {"zh": "时间", "en": "Time"},
    "admin.object": {"zh": "对象", "en": "Object"},
    "admin.rows": {"zh": "行数", "en": "Rows"},
    "admin.count": {"zh": "共 {count} 条记录（最新在前，最多 500 条）。", "en": "{count} entries (newest first, at most 500)."},
    "admin.grids": {"zh": "可见网格", "en": "Grids"},
    "admin.street_wide": {"zh": "全街道", "en": "Whole street"},
    "admin.disabled": {"zh": "已停用", "en": "Disabled"},
    "admin.yes": {"zh": "是", "en": "yes"},
    "admin.manage_hint": {
        "zh": "账号的新增、停用、改密和授权由系统管理员在服务器上完成。",
        "en": "Accounts are added, disabled, given new passwords and grids by the administrator on the server.",
    },
    "login.name": {"zh": "账号", "en": "Account"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Log in"},
    "login.wrong": {"zh": "账号或密码不正确。", "en": "Wrong account name or password."},
    "login.locked": {
        "zh": "密码连续输错 {attempts} 次，账号已锁定 {minutes} 分钟，请于 {until} 后再试。",
        "en": "{attempts} wrong passwords in a row: the account is locked for {minutes} minutes, until {until}.",
    },
    "login.disabled": {"zh": "该账号已停用，请联系管理员。", "en": "This account is disabled; ask an administrator."},
    "login.no_account": {
        "zh": "统一身份认证的账号在本系统中不存在，请联系管理员开通。",
        "en": "Your single sign-on identity has no GridGov account; ask an administrator to create it.",
    },
    "login.expired": {"zh": "登录表单已过期，请重新输入。", "en": "The login form expired; please try again."},
    "login.needed": {"zh": "登录后才能使用本系统。", "en": "Log in to use GridGov."},
    "login.go": {"zh": "前往登录", "en": "Go to the login page"},
    "login.sso": {"zh": "统一身份认证登录", "en": "Log in with single sign-on"},
    # -- sessions and login (authweb) --
    "login.sso_only": {
        "zh": "本系统使用统一身份认证登录，请返回首页点击“统一身份认证登录”。",
        "en": "GridGov uses single sign-on: go back to the start page and choose “Log in with single sign-on”.",
    },
    "session.ended.expired": {
        "zh": "长时间未操作，登录已过期，请重新登录。",
        "en": "You were inactive for too long and have been logged out. Please log in again.",
    },
    "session.ended.logout": {
        "zh": "您已退出登录（可能是在其他窗口或标签页中退出的），请重新登录。",
        "en": "You have logged out (perhaps in another window or tab). Please log in again.",
    },
    "session.ended.disabled": {
        "zh": "该账号已被停用，登录已结束。如有疑问请联系管理员。",
        "en": "This account has been disabled and its login has ended. Ask an administrator if this is unexpected.",
    },
    "session.ended.password": {
        "zh": "该账号的密码已更改，登录已结束，请使用新密码重新登录。",
        "en": "The password of this account was changed and its login has ended. Please log in with the new password.",
    },
    "session.ended.revoked": {
        "zh": "管理员已结束本次登录，请重新登录。",
        "en": "An administrator ended this login. Please log in again.",
    },
    "card.outside_scope": {
        "zh": "网格 {code} 不在您可查看的网格范围内。",
        "en": "Grid {code} is outside the grids you may see.",
    },
    "session.ended.unknown": {
        "zh": "登录已失效，请重新登录。",
        "en": "Your login is no longer valid. Please log in again.",
    },
    "nav.map": {"zh": "电子地图", "en": "Electronic map"},
    "nav.my_grid": {"zh": "我的网格", "en": "My grid"},
    "nav.incidents": {"zh": "事件地图", "en": "Incident map"},
    "nav.section": {"zh": "网格化治理", "en": "Grid governance"},
    "nav.work_section": {"zh": "日常工作", "en": "Daily work"},
    "nav.admin": {"zh": "审计与账号", "en": "Audit and accounts"},
    # -- shared ------------------------------------------------------------------------
    "level.1": {"zh": "一级网格", "en": "Level-1 grids"},
    "level.2": {"zh": "二级网格", "en": "Level-2 grids"},
    "level.3": {"zh": "微网格", "en": "Micro-grids"},
    "level.n": {"zh": "{level}级网格", "en": "Level-{level} grids"},
    "layer.labels": {"zh": "网格编码标注", "en": "Grid code labels"},
    "layer.households": {"zh": "住户", "en": "Households"},
    "layer.incidents": {"zh": "事件", "en": "Incidents"},
    "lang.zh": {"zh": "中文", "en": "中文"},
    "lang.en": {"zh": "English", "en": "English"},
    "list.sep": {"zh": "、", "en": ", "},
    "layers.title": {"zh": "图层", "en": "Layers"},
    "field.code": {"zh": "编码", "en": "Code"},
    "field.name": {"zh": "名称", "en": "Name"},
    "field.level": {"zh": "层级", "en": "Level"},
    "field.address": {"zh": "地址", "en": "Address"},
    "field.members": {"zh": "人数", "en": "Members"},
    "field.special": {"zh": "特殊户类别", "en": "Special kinds"},
    "field.category": {"zh": "类别", "en": "Category"},
    "field.status": {"zh": "状态", "en": "Status"},
    "field.description": {"zh": "描述", "en": "Description"},
    "field.reported_at": {"zh": "上报时间", "en": "Reported at"},
    "field.grid": {"zh": "网格", "en": "Grid"},
    "field.resident": {"zh": "居民", "en": "Resident"},
    "field.relation": {"zh": "关系", "en": "Relation"},
    "field.id_number": {"zh": "身份证号", "en": "ID number"},
    "field.phone": {"zh": "电话", "en": "Phone"},
    "field.role": {"zh": "岗位", "en": "Role"},
    "field.staff": {"zh": "人员", "en": "Staff"},
    "field.kind": {"zh": "类型", "en": "Kind"},
    "field.month": {"zh": "月份", "en": "Month"},
    "field.incidents": {"zh": "事件数", "en": "Incidents"},
    "field.closed": {"zh": "已办结", "en": "Closed"},
    "field.closure_rate": {"zh": "办结率", "en": "Closure rate"},
    "field.last_visit": {"zh": "最近走访", "en": "Last visit"},
    "my.never_visited": {"zh": "从未走访", "en": "Never visited"},
    # -- grid card ---------------------------------------------------------------------
    "card.title": {"zh": "网格信息卡：{code} {name}", "en": "Grid card: {code} {name}"},
    "card.parents": {"zh": "上级网格", "en": "Parent grids"},
    "card.staff": {"zh": "网格人员", "en": "Staff"},
    "card.no_staff": {"zh": "暂无在岗人员", "en": "No staff assigned"},
    "card.households": {"zh": "住户数", "en": "Households"},
    "card.special": {"zh": "特殊户数", "en": "Special households"},
    "card.residents": {"zh": "居民数", "en": "Residents"},
    "card.open_incidents": {"zh": "未办结事件", "en": "Open incidents"},
    "card.area": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "card.children": {"zh": "下级网格", "en": "Child grids"},
    "card.click_hint": {"zh": "点击地图上的网格查看信息卡。", "en": "Click a grid on the map to open its card."},
    # -- roles -------------------------------------------------------------------------
    # -- special household kinds and incident statuses -----------------------------------
    # -- electronic map ----------------------------------------------------------------
    "map.title": {"zh": "电子地图", "en": "Electronic map"},
    "map.search": {"zh": "搜索（编码、网格名称、人员姓名或地址）", "en": "Search (code, grid name, staff name or address)"},
    "map.search_button": {"zh": "搜索", "en": "Search"},
    "map.no_results": {"zh": "没有找到“{query}”。", "en": "Nothing found for “{query}”."},
    "map.results": {"zh": "搜索结果", "en": "Results"},
    "map.pick_result": {"zh": "定位到", "en": "Zoom to"},
    "map.zoomed": {"zh": "已定位到 {label}", "en": "Zoomed to {label}"},
    "map.summary": {
        "zh": "共 {grids} 个网格，{households} 户，{incidents} 起事件。",
        "en": "{grids} grids, {households} households, {incidents} incidents.",
    },
    "map.outside": {"zh": "这里不在任何网格内。", "en": "This point is in no grid."},
    "map.outside_near": {
        "zh": "这里不在任何网格内；最近的网格是 {code} {name}，相距 {distance} 米。",
        "en": "This point is in no grid; the nearest is {code} {name}, {distance} m away.",
    },
    "search.kind.grid": {"zh": "网格", "en": "Grid"},
    "search.kind.staff": {"zh": "人员", "en": "Staff"},
    "search.kind.household": {"zh": "住户地址", "en": "Household address"},
    # -- my grid -----------------------------------------------------------------------
    "my.title": {"zh": "我的网格", "en": "My grid"},
    "my.by": {"zh": "查找方式", "en": "Find by"},
    "my.by_code": {"zh": "网格编码", "en": "Grid code"},
    "my.by_person": {"zh": "姓名或电话", "en": "Name or phone"},
    "my.by_point": {"zh": "位置（点击地图或输入经纬度）", "en": "Location (click the map or type lon/lat)"},
    "my.code": {"zh": "网格编码", "en": "Grid code"},
    "my.person": {"zh": "姓名或手机号", "en": "Name or mobile number"},
    "my.lon": {"zh": "经度", "en": "Longitude"},
    "my.lat": {"zh": "纬度", "en": "Latitude"},
    "my.find": {"zh": "查找", "en": "Find"},
    "my.pick_assignment": {"zh": "选择网格", "en": "Choose a grid"},
    "my.not_found": {"zh": "未找到：{error}", "en": "Not found: {error}"},
    "my.no_person": {"zh": "没有姓名或电话为“{query}”的人员。", "en": "No staff member with name or phone “{query}”."},
    "my.click_hint": {"zh": "点击下方地图选择位置。", "en": "Click the map below to choose a point."},
    "my.found": {"zh": "您所在的网格：{code} {name}", "en": "Your grid: {code} {name}"},
    "my.households": {"zh": "住户名册（个人信息已脱敏）", "en": "Household roster (personal data masked)"},
    "my.visits": {"zh": "本月待走访（{month}）", "en": "Visits due this month ({month})"},
    "my.visits_summary": {
        "zh": "本月已走访 {done} 次，距 {target} 次还需 {needed} 次；{pending} 户特殊户本月尚未走访。",
        "en": "{done} visits this month; {needed} more needed to reach {target}; {pending} special households not yet visited this month.",
    },
    "my.no_due": {"zh": "本月特殊户均已走访。", "en": "Every special household has been visited this month."},
    "my.card": {"zh": "网格公示卡", "en": "Grid contact card"},
    "my.download_png": {"zh": "下载公示卡 PNG", "en": "Download contact card (PNG)"},
    "my.download_pdf": {"zh": "下载公示卡 PDF", "en": "Download contact card (PDF)"},
    "my.card_error": {"zh": "无法生成公示卡：{error}", "en": "Cannot make the contact card: {error}"},
    "my.enter_query": {"zh": "请选择查找方式并输入查询条件。", "en": "Choose how to find your grid and enter a query."},
    "contact.title": {"zh": "网格公示卡", "en": "Grid contact card"},
    "contact.code": {"zh": "网格编码：{code}", "en": "Grid code: {code}"},
    "contact.staff_line": {"zh": "{role}：{name}  {phone}", "en": "{role}: {name}  {phone}"},
    "contact.column.role": {"zh": "职责", "en": "Role"},
    "contact.column.name": {"zh": "姓名", "en": "Name"},
    "contact.column.phone": {"zh": "联系电话", "en": "Phone"},
    "contact.column.grid": {"zh": "所在网格", "en": "Grid"},
    "contact.footer": {"zh": "有事找网格，服务零距离", "en": "Your grid team is here to help"},
    # -- incident map ------------------------------------------------------------------
    "inc.title": {"zh": "事件地图", "en": "Incident map"},
    "inc.dates": {"zh": "上报日期范围", "en": "Reported between"},
    "inc.categories": {"zh": "事件类别", "en": "Categories"},
    "inc.statuses": {"zh": "事件状态", "en": "Statuses"},
    "inc.level": {"zh": "统计层级", "en": "Aggregate at level"},
    "inc.total": {"zh": "符合条件的事件：{count} 起", "en": "Matching incidents: {count}"},
    "inc.unassigned": {"zh": "其中 {count} 起不在任何网格内。", "en": "{count} of them lie outside every grid."},
    "inc.heatmap": {"zh": "事件热力图", "en": "Incident heatmap"},
    "inc.cluster": {"zh": "事件点（聚合）", "en": "Incidents (clustered)"},
    "inc.choropleth": {"zh": "各网格事件数", "en": "Incidents per grid"},
    "inc.closure_layer": {"zh": "各网格办结率", "en": "Closure rate per grid"},
    "inc.all": {"zh": "全部", "en": "All"},
    "inc.view": {"zh": "视图", "en": "View"},
    "inc.tab_map": {"zh": "热力图与分布", "en": "Heatmap and distribution"},
    "inc.tab_time": {"zh": "按月动画", "en": "Monthly animation"},
    "inc.tab_stats": {"zh": "排行与趋势", "en": "Ranking and trend"},
    "inc.top": {"zh": "事件最多的网格", "en": "Grids with the most incidents"},
    "inc.trend": {"zh": "月度趋势", "en": "Monthly trend"},
    "inc.legend": {"zh": "分级（事件数）：{edges}", "en": "Classes (incidents): {edges}"},
    "inc.none": {"zh": "没有符合条件的事件。", "en": "No incidents match the filter."},
    # -- editor --------------------------------------------------------------------------
    "nav.editor": {"zh": "编辑网格边界", "en": "Edit grid boundaries"},
    "nav.history": {"zh": "变更历史", "en": "Change history"},
    "editor.title": {"zh": "编辑网格边界", "en": "Edit grid boundaries"},
    "editor.operation": {"zh": "操作", "en": "Operation"},
    "editor.op.split": {"zh": "拆分网格（画分割线）", "en": "Split a grid (draw a line)"},
    "editor.op.merge": {"zh": "合并相邻网格", "en": "Merge adjacent grids"},
    "editor.op.reshape": {"zh": "调整相邻网格共用边界", "en": "Move a shared boundary"},
    "editor.op.transfer": {"zh": "划转区域给相邻网格", "en": "Transfer an area to a neighbour"},
    "editor.op.reshape_grid": {"zh": "重绘网格轮廓", "en": "Redraw a grid's outline"},
    "editor.op.annex": {"zh": "新增区域（新划入）", "en": "Annex a new area"},
    "editor.op.replace": {"zh": "重新划分下级网格", "en": "Replace all children of a grid"},
    "editor.help.split": {
        "zh": "在左侧地图用折线工具画一条穿过网格的线（从一边到另一边）。新编码按编码规则分配，原编码停用。",
        "en": "Draw a line across the grid (edge to edge) with the polyline tool. New codes follow the coding rules; the old code is retired.",
    },
    "editor.help.merge": {
        "zh": "选择两个或多个相邻的同级网格（或画一条经过它们的线）。面积最大的保留编码，其余停用且永不复用。",
        "en": "Pick two or more adjacent sibling grids (or draw a line through them). The largest keeps its code; the others are retired, never reused.",
    },
    "editor.help.reshape": {
        "zh": "画出新的共用边界线，或画出网格 A 的新范围；两个相邻网格同时改变。",
        "en": "Draw the new shared boundary, or the new extent of grid A; both neighbours change together.",
    },
    "editor.help.transfer": {
        "zh": "画出要从一个网格划给相邻网格的区域。",
        "en": "Draw the area to move from one grid to its neighbour.",
    },
    "editor.help.reshape_grid": {
        "zh": "画出网格的新轮廓；相邻网格随之让出或接收区域。",
        "en": "Draw the grid's new outline; its neighbours give and take area accordingly.",
    },
    "editor.help.annex": {
        "zh": "在现有网格范围之外画出新划入的区域，并选择上级网格；上级网格随之扩大。",
        "en": "Draw the newly annexed area outside the current grids and choose its parent; the parent grows to include it.",
    },
    "editor.help.replace": {
        "zh": "选择上级网格并画出全部新的下级网格（多个多边形）；原下级网格编码停用。",
        "en": "Choose the parent and draw all its new child grids (several polygons); the old children's codes are retired.",
    },
    "editor.restart": {"zh": "重新载入", "en": "Reload plan"},
    "editor.draft_info": {"zh": "编辑基于 {at} 读取的 {grids} 个网格。", "en": "Editing the {grids} grids read at {at}."},
    "editor.current_map": {"zh": "当前网格（在此绘制）", "en": "Current grids (draw here)"},
    "editor.proposed_map": {"zh": "编辑后预览", "en": "Preview after the edit"},
    "editor.no_preview": {"zh": "绘制并点击“预览”后在此显示编辑结果。", "en": "Draw, then press Preview to see the result here."},
    "editor.wkt_expander": {"zh": "以 WKT 输入几何（备用）", "en": "Enter the geometry as WKT (fallback)"},
    "editor.wkt": {"zh": "WKT（EPSG:4490 经纬度），填写后优先于地图绘制", "en": "WKT (EPSG:4490 lon/lat); overrides the drawing when filled"},
    "editor.bad_wkt": {"zh": "无法识别输入的 WKT 图形，请检查括号、逗号和坐标（经度 纬度，CGCS2000），例如：POLYGON((112.01 28.01, 112.02 28.01, 112.02 28.02, 112.01 28.01))。",
                       "en": "The WKT cannot be read; check its brackets, commas and coordinates (longitude latitude, CGCS2000), e.g. POLYGON((112.01 28.01, 112.02 28.01, 112.02 28.02, 112.01 28.01))."},
    "editor.invalid_summary": {"zh": "{count} 个问题（{rules}）", "en": "{count} problem(s) ({rules})"},
    "editor.auto": {"zh": "（按绘制自动识别）", "en": "(from the drawing)"},
    "editor.grid": {"zh": "网格", "en": "Grid"},
    "editor.choose": {"zh": "请选择", "en": "Choose"},
    "editor.code_a": {"zh": "网格 A", "en": "Grid A"},
    "editor.code_b": {"zh": "网格 B", "en": "Grid B"},
    "editor.from_code": {"zh": "划出网格", "en": "From grid"},
    "editor.to_code": {"zh": "划入网格", "en": "To grid"},
    "editor.parent": {"zh": "上级网格", "en": "Parent grid"},
    "editor.new_name": {"zh": "新网格名称（可选）", "en": "Name of the new grid (optional)"},
    "editor.merge_codes": {"zh": "要合并的网格", "en": "Grids to merge"},
    "editor.need_two": {"zh": "请至少选择两个要合并的网格。", "en": "Pick at least two grids to merge."},
    "editor.need_code": {"zh": "请选择{what}，或在地图上绘制以自动识别。", "en": "Choose the {what}, or draw on the map to pick it."},
    "editor.need_geometry.line": {"zh": "请在地图上画一条线。", "en": "Draw a line on the map."},
    "editor.need_geometry.area": {"zh": "请在地图上画一个区域（多边形或矩形）。", "en": "Draw an area (polygon or rectangle) on the map."},
    "editor.need_geometry.line_or_area": {"zh": "请在地图上画一条线或一个区域。", "en": "Draw a line or an area on the map."},
    "editor.need_geometry.areas": {"zh": "请在地图上画出新的下级网格（一个或多个多边形）。", "en": "Draw the new child grids (one or more polygons) on the map."},
    "editor.target": {"zh": "涉及网格：{codes}", "en": "Grids: {codes}"},
    "editor.preview": {"zh": "预览", "en": "Preview"},
    "editor.refused": {"zh": "无法进行此编辑：{error}", "en": "This edit is refused: {error}"},
    "editor.preview_title": {"zh": "编辑预览", "en": "Preview"},
    "editor.changes": {"zh": "新增：{added}；停用：{retired}；边界改变：{reshaped}", "en": "Added: {added}; retired: {retired}; reshaped: {reshaped}"},
    "editor.valid": {"zh": "校验通过：网格覆盖完整、无重叠、无缝隙。", "en": "Valid: the grids still cover everything without overlaps or gaps."},
    "editor.invalid": {"zh": "校验未通过：{summary}", "en": "Not valid: {summary}"},
    "editor.cannot_save": {"zh": "编辑会破坏网格覆盖，不能保存。", "en": "The edit breaks the coverage and cannot be saved."},
    "editor.col.severity": {"zh": "级别", "en": "Severity"},
    "editor.col.rule": {"zh": "规则", "en": "Rule"},
    "editor.col.codes": {"zh": "网格", "en": "Grids"},
    "editor.col.message": {"zh": "说明", "en": "Message"},
    "editor.col.area_m2": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "editor.rule": {"zh": "规则", "en": "Rule"},
    "editor.message": {"zh": "说明", "en": "Message"},
    "editor.moved_households": {"zh": "调整住户", "en": "Households moved"},
    "editor.moved_residents": {"zh": "涉及居民", "en": "Residents moved"},
    "editor.moved_special": {"zh": "涉及特殊人群户", "en": "Special households moved"},
    "editor.moved_incidents": {"zh": "调整事件", "en": "Incidents moved"},
    "editor.staff_affected": {"zh": "受影响的人员分工", "en": "Staff assignments affected"},
    "editor.flows": {"zh": "住户调整（原网格 → 新网格）", "en": "Households moving (from → to)"},
    "editor.flow_line": {"zh": "{source} → {target}：{count} 户", "en": "{source} → {target}: {count} households"},
    "editor.no_moves": {"zh": "没有住户改变所属网格。", "en": "No household changes grid."},
    "editor.incident_flows": {"zh": "事件调整（原网格 → 新网格）", "en": "Incidents moving (from → to)"},
    "editor.staff_review": {"zh": "需调整或复核的人员分工", "en": "Staff assignments to move or review"},
    "editor.from": {"zh": "原网格", "en": "From"},
    "editor.to": {"zh": "新网格", "en": "To"},
    "editor.count": {"zh": "数量", "en": "Count"},
    "editor.household": {"zh": "住户", "en": "Household"},
    "editor.balance_grids": {"zh": "各微网格工作量均衡（编辑前后）", "en": "Workload balance per micro-grid (before/after)"},
    "editor.balance_workers": {"zh": "各网格员工作量均衡（编辑前后）", "en": "Workload balance per grid worker (before/after)"},
    "editor.before": {"zh": "编辑前", "en": "Before"},
    "editor.after": {"zh": "编辑后", "en": "After"},
    "editor.stat.min": {"zh": "最小", "en": "min"},
    "editor.stat.max": {"zh": "最大", "en": "max"},
    "editor.stat.mean": {"zh": "平均", "en": "mean"},
    "editor.stat.cv": {"zh": "变异系数", "en": "CV"},
    "editor.metric.households": {"zh": "住户", "en": "Households"},
    "editor.metric.special_households": {"zh": "特殊人群户", "en": "Special households"},
    "editor.metric.residents": {"zh": "居民", "en": "Residents"},
    "editor.layer_touched": {"zh": "涉及的网格", "en": "Grids changed"},
    "editor.layer_drawn": {"zh": "绘制的图形", "en": "Drawing"},
    "editor.layer_findings": {"zh": "校验问题", "en": "Validation problems"},
    "editor.layer_moved": {"zh": "调整的住户", "en": "Households moving"},
    "editor.save_title": {"zh": "保存为新版本", "en": "Save as a new version"},
    "editor.reason": {"zh": "调整原因（必填）", "en": "Reason for the change (required)"},
    "editor.author": {"zh": "操作人", "en": "Author"},
    "editor.save": {"zh": "保存", "en": "Save"},
    "editor.reason_required": {"zh": "请填写调整原因后再保存。", "en": "Enter a reason before saving."},
    "editor.conflict": {
        "zh": "保存被拒绝：编辑期间他人已修改相关网格，未写入任何内容。请重新载入后再编辑。详情：{error}",
        "en": "Save refused: someone changed these grids since this edit began; nothing was written. Reload and redo the edit. Details: {error}",
    },
    "editor.save_failed": {"zh": "保存失败，未写入任何内容：{error}", "en": "Saving failed; nothing was written: {error}"},
    "editor.saved": {
        "zh": "已保存变更集 #{id}。新增网格：{added}；停用：{retired}；调整住户 {moved} 户。",
        "en": "Saved changeset #{id}. New grids: {added}; retired: {retired}; {moved} households re-assigned.",
    },
    "history.title": {"zh": "变更历史", "en": "Change history"},
    "history.timeline": {"zh": "变更记录", "en": "Changesets"},
    "history.code_filter": {"zh": "按网格编码筛选（留空为全街道）", "en": "Filter by grid code (empty: whole subdistrict)"},
    "history.empty": {"zh": "没有变更记录。", "en": "No changesets."},
    "history.col.id": {"zh": "编号", "en": "ID"},
    "history.col.at": {"zh": "时间", "en": "Time"},
    "history.col.author": {"zh": "操作人", "en": "Author"},
    "history.col.kind": {"zh": "类型", "en": "Kind"},
    "history.col.reason": {"zh": "原因", "en": "Reason"},
    "history.col.added": {"zh": "新增", "en": "Added"},
    "history.col.retired": {"zh": "停用", "en": "Retired"},
    "history.col.reshaped": {"zh": "边界改变", "en": "Reshaped"},
    "history.kind.edit": {"zh": "编辑", "en": "Edit"},
    "history.kind.rollback": {"zh": "回退", "en": "Rollback"},
    "history.kind.import": {"zh": "导入", "en": "Import"},
    "history.kind.demo": {"zh": "演示数据", "en": "Demo data"},
    "history.as_of_title": {"zh": "历史地图", "en": "The map on a past date"},
    "history.as_of_mode": {"zh": "时间点", "en": "Moment"},
    "history.mode.changeset": {"zh": "按变更", "en": "By changeset"},
    "history.mode.date": {"zh": "按日期", "en": "By date"},
    "history.date": {"zh": "日期", "en": "Date"},
    "history.moment": {"zh": "版本", "en": "Version"},
    "history.now": {"zh": "当前", "en": "Now"},
    "history.after_changeset": {"zh": "变更 #{id} 之后（{at}，{reason}）", "en": "After changeset #{id} ({at}, {reason})"},
    "history.as_of_date": {"zh": "{date} 日终", "en": "End of {date}"},
    "history.as_of_caption": {"zh": "{label}：{grids} 个网格", "en": "{label}: {grids} grids"},
    "history.no_grids": {"zh": "该时间点没有网格。", "en": "No grids at that moment."},
    "history.compare_title": {"zh": "两个版本对比", "en": "Compare two versions"},
    "history.version_a": {"zh": "较早版本", "en": "Earlier version"},
    "history.version_b": {"zh": "较新版本", "en": "Later version"},
    "history.diff_summary": {
        "zh": "新增 {added} 个、停用 {retired} 个、边界改变 {reshaped} 个、更名 {renamed} 个网格。",
        "en": "{added} added, {retired} retired, {reshaped} reshaped, {renamed} renamed grids.",
    },
    "history.change": {"zh": "变化", "en": "Change"},
    "history.change.added": {"zh": "新增", "en": "Added"},
    "history.change.retired": {"zh": "停用", "en": "Retired"},
    "history.change.reshaped": {"zh": "边界改变区域", "en": "Changed area"},
    "history.level": {"zh": "层级", "en": "Level"},
    "history.area_m2": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "history.rollback_title": {"zh": "回退变更", "en": "Roll back a changeset"},
    "history.nothing_to_roll_back": {"zh": "没有可回退的编辑。", "en": "No edit to roll back."},
    "history.rollback_pick": {"zh": "要回退的变更", "en": "Changeset to roll back"},
    "history.rollback_reason": {"zh": "回退原因（可选）", "en": "Reason (optional)"},
    "history.rollback_button": {"zh": "回退", "en": "Roll back"},
    "history.rolled_back": {
        "zh": "已回退变更 #{id}（新变更 #{new_id}），调整住户 {moved} 户。",
        "en": "Rolled back changeset #{id} (new changeset #{new_id}); {moved} households re-assigned.",
    },
    "history.rollback_conflict": {"zh": "无法回退：{error}", "en": "Cannot roll back: {error}"},
    "history.rollback_failed": {"zh": "回退失败，未写入任何内容：{error}", "en": "Rollback failed; nothing was written: {error}"},
    # -- end editor ----------------------------------------------------------------------
    # -- governance: roster, incident handling, visits, assessment -------------------------
    # -- navigation (app.py: st.Page(_page("roster"), title=t("nav.roster"), url_path="roster"), etc.) --
    "nav.roster": {"zh": "人员花名册", "en": "Staff roster"},
    "nav.workflow": {"zh": "事件处置", "en": "Incident handling"},
    "nav.visits": {"zh": "入户走访", "en": "Household visits"},
    "nav.assessment": {"zh": "考核排名", "en": "Assessment"},
    # -- domain labels (label_of prefixes) -------------------------------------------------------
    "action.report": {"zh": "上报", "en": "Report"},
    "action.accept": {"zh": "受理", "en": "Accept"},
    "action.reject": {"zh": "不予受理", "en": "Reject"},
    "action.classify": {"zh": "分类", "en": "Classify"},
    "action.dispatch": {"zh": "派遣", "en": "Dispatch"},
    "action.handle": {"zh": "处置反馈", "en": "Handle"},
    "action.close": {"zh": "办结", "en": "Close"},
    "action.reopen": {"zh": "重新办理", "en": "Reopen"},
    # -- roster page -------------------------------------------------------------------------------
    "roster.title": {"zh": "人员花名册", "en": "Staff roster"},
    "roster.on": {"zh": "在岗日期", "en": "On date"},
    "roster.gaps": {"zh": "岗位缺口（{count} 项）", "en": "Team gaps ({count})"},
    "roster.no_gaps": {"zh": "所有网格岗位齐全。", "en": "Every grid has its full team."},
    "roster.problem": {"zh": "问题", "en": "Problem"},
    "roster.problem.missing": {"zh": "缺岗", "en": "Missing"},
    "roster.problem.more_than_one": {"zh": "多于一人", "en": "More than one"},
    "roster.problem.not_a_current_grid": {"zh": "网格已不存在", "en": "Not a current grid"},
    "roster.table": {"zh": "花名册", "en": "Roster"},
    "roster.only_active": {"zh": "仅显示在岗人员", "en": "Only staff on duty"},
    "roster.start": {"zh": "开始日期", "en": "Start"},
    "roster.end": {"zh": "结束日期", "en": "End"},
    "roster.card": {"zh": "网格公示栏", "en": "Grid contact card"},
    "roster.card_grid": {"zh": "选择网格", "en": "Grid"},
    "roster.card_download": {"zh": "下载可打印公示栏（HTML）", "en": "Download printable card (HTML)"},
    "roster.xlsx": {"zh": "导入与导出（XLSX）", "en": "Import and export (XLSX)"},
    "roster.export": {"zh": "导出花名册 XLSX", "en": "Export roster (XLSX)"},
    "roster.import": {"zh": "导入花名册 XLSX", "en": "Import roster (XLSX)"},
    "roster.invalid": {"zh": "花名册有误：{error}", "en": "The roster has problems: {error}"},
    "roster.row_problem": {"zh": "第 {line} 行：{problem}", "en": "line {line}: {problem}"},
    "roster.col.line": {"zh": "行号", "en": "Line"},
    "roster.col.id": {"zh": "编号", "en": "Key"},
    "roster.preview": {"zh": "文件共 {count} 行，预览如下：", "en": "{count} rows in the file; preview:"},
    "roster.replace": {"zh": "替换文件中人员的全部岗位", "en": "Replace all assignments of the people in the file"},
    "roster.save": {"zh": "保存到数据库", "en": "Save to the database"},
    "roster.saved": {
        "zh": "已保存：人员 {staff} 名，新增岗位 {added} 条，删除岗位 {deleted} 条。",
        "en": "Saved: {staff} staff, {added} assignments added, {deleted} removed.",
    },
    # -- incident workflow page -------------------------------------------------------------------
    "wf.title": {"zh": "事件处置", "en": "Incident handling"},
    "wf.tab_list": {"zh": "事件办理", "en": "Handle incidents"},
    "wf.tab_report": {"zh": "地图上报", "en": "Report on the map"},
    "wf.tab_overdue": {"zh": "超期事件", "en": "Overdue"},
    "wf.grid_prefix": {"zh": "网格编码（前缀）", "en": "Grid code (prefix)"},
    "wf.only_overdue": {"zh": "仅超期", "en": "Overdue only"},
    "wf.count": {"zh": "共 {count} 起事件", "en": "{count} incidents"},
    "wf.disposition": {"zh": "处置方式", "en": "Disposition"},
    "wf.disposition_days": {"zh": "{label}（{days} 天）", "en": "{label} ({days} days)"},
    "wf.assignee": {"zh": "承办人", "en": "Assigned to"},
    "wf.deadline": {"zh": "办理时限", "en": "Deadline"},
    "wf.overdue": {"zh": "超期", "en": "Overdue"},
    "wf.overdue_days": {"zh": "超期天数", "en": "Days overdue"},
    "wf.overdue_for": {"zh": "已超期", "en": "Overdue by"},
    "wf.overdue_count": {"zh": "当前超期事件 {count} 起", "en": "{count} incidents overdue now"},
    "wf.yes": {"zh": "是", "en": "Yes"},
    "wf.pick": {"zh": "选择事件", "en": "Incident"},
    "wf.detail": {"zh": "事件 #{id}（{status}）", "en": "Incident #{id} ({status})"},
    "wf.events": {"zh": "办理记录", "en": "Event log"},
    "wf.at": {"zh": "时间", "en": "When"},
    "wf.action": {"zh": "操作", "en": "Action"},
    "wf.from": {"zh": "原状态", "en": "From"},
    "wf.to": {"zh": "新状态", "en": "To"},
    "wf.actor": {"zh": "经办人", "en": "By"},
    "wf.note": {"zh": "说明", "en": "Note"},
    "wf.note_label.required": {"zh": "说明（必填：理由或处置反馈）", "en": "Note (required: reason or feedback)"},
    "wf.note_label.optional": {"zh": "说明（选填）", "en": "Note (optional)"},
    "wf.no_action": {"zh": "该事件当前无可执行操作。", "en": "No action is possible in this state."},
    "wf.submit": {"zh": "提交", "en": "Submit"},
    "wf.done": {"zh": "事件 #{id} 已更新为：{status}", "en": "Incident #{id} is now: {status}"},
    "wf.stale": {
        "zh": "提交失败，他人已先处理此事件：{error}",
        "en": "Not saved: someone else changed this incident first: {error}",
    },
    "wf.changed": {
        "zh": "您打开此事件后，{actor} 于 {at} 进行了“{action}”操作；提交将被拒绝，请先刷新。",
        "en": "Since you opened this incident, {actor} did '{action}' at {at}; a submit will be refused: reload first.",
    },
    "wf.reload": {"zh": "刷新事件", "en": "Reload incident"},
    "wf.refused": {"zh": "操作未执行：{error}", "en": "Not done: {error}"},
    "wf.click_hint": {"zh": "在地图上点击事件位置，再填写下方表单。", "en": "Click the incident's location on the map, then fill in the form."},
    "wf.reporter": {"zh": "上报人", "en": "Reported by"},
    "wf.report": {"zh": "上报事件", "en": "Report incident"},
    "wf.need_point": {"zh": "请先在地图上点击或输入经纬度。", "en": "Click the map or type lon/lat first."},
    "wf.reported": {"zh": "已上报事件 #{id}。", "en": "Incident #{id} reported."},
    # -- visits page ------------------------------------------------------------------------------
    "visit.title": {"zh": "入户走访", "en": "Household visits"},
    "visit.overview": {
        "zh": "{month} 走访计划（每人每月至少走访 {minimum} 户，特殊户每月必访）",
        "en": "Visit plan {month} (at least {minimum} households per worker a month; every special household monthly)",
    },
    "visit.visited": {"zh": "本月已走访户数", "en": "Households visited"},
    "visit.remaining": {"zh": "距达标还需", "en": "Still needed"},
    "visit.special_pending": {"zh": "特殊户待走访", "en": "Special households pending"},
    "visit.special_hidden": {"zh": "哪些住户是特殊户，仅本网格的网格员、网格长和“一格五员”可见；此处只显示户数。",
                             "en": "Which households are special is shown only to the grid's own worker, head and team; here only the count."},
    "visit.due_for_update": {"zh": "信息待更新（超过一季度）", "en": "Data due for update (over a quarter old)"},
    "visit.refreshed_at": {"zh": "信息更新日期", "en": "Data refreshed"},
    "visit.no_workers": {"zh": "所选月份没有在岗的微网格员。", "en": "No micro-grid worker on duty in this month."},
    "visit.worker": {"zh": "网格员", "en": "Worker"},
    "visit.record": {"zh": "登记走访", "en": "Record a visit"},
    "visit.no_households": {"zh": "该网格员名下暂无住户。", "en": "This worker has no households."},
    "visit.household": {"zh": "住户", "en": "Household"},
    "visit.date": {"zh": "走访日期", "en": "Date"},
    "visit.time": {"zh": "走访时间", "en": "Time"},
    "visit.note": {"zh": "走访情况", "en": "Notes"},
    "visit.save": {"zh": "保存走访记录", "en": "Save visit"},
    "visit.saved": {"zh": "已保存走访记录 #{id}。", "en": "Visit #{id} saved."},
    "visit.error": {"zh": "未保存：{error}", "en": "Not saved: {error}"},
    # -- assessment page -------------------------------------------------------------------------
    "assess.title": {"zh": "考核排名", "en": "Assessment and ranking"},
    "assess.weights": {"zh": "积分规则（每项分值）", "en": "Scoring (points per item)"},
    "assess.weight.visit": {"zh": "走访每户", "en": "Per household visited"},
    "assess.weight.special_covered": {"zh": "特殊户每户", "en": "Per special household covered"},
    "assess.weight.incident_discovered": {"zh": "发现事件", "en": "Per incident found"},
    "assess.weight.incident_closed": {"zh": "办结事件", "en": "Per incident closed"},
    "assess.weight.overdue": {"zh": "超期事件", "en": "Per overdue incident"},
    "assess.weight.missed_visit": {"zh": "走访缺额每户", "en": "Per missing visit"},
    "assess.tab_workers": {"zh": "网格员", "en": "Workers"},
    "assess.tab_grids": {"zh": "网格", "en": "Grids"},
    "assess.rank": {"zh": "排名", "en": "Rank"},
    "assess.visits_made": {"zh": "走访户数", "en": "Visits made"},
    "assess.visits_required": {"zh": "应走访户数", "en": "Visits required"},
    "assess.special_covered": {"zh": "特殊户已覆盖", "en": "Special households covered"},
    "assess.discovered": {"zh": "发现事件", "en": "Incidents found"},
    "assess.closed": {"zh": "办结事件", "en": "Incidents closed"},
    "assess.median_hours": {"zh": "办结用时中位数（小时）", "en": "Median hours to close"},
    "assess.overdue": {"zh": "超期", "en": "Overdue"},
    "assess.score": {"zh": "积分", "en": "Score"},
    "assess.monthly": {"zh": "月度联席会议报告", "en": "Monthly joint-meeting report"},
    "assess.monthly_hint": {
        "zh": "每月25日联席会议使用：事件分类统计、疑难超期事项、各网格情况与地图（XLSX 与 HTML）。",
        "en": "For the joint meeting on the 25th: incidents by category, open hard cases, per-grid figures and maps (XLSX and HTML).",
    },
    "assess.make_report": {"zh": "生成报告", "en": "Make the report"},
    "assess.making": {"zh": "正在生成报告……", "en": "Making the report…"},
    "assess.download_xlsx": {"zh": "下载 XLSX", "en": "Download XLSX"},
    "assess.download_html": {"zh": "下载 HTML（含地图，可打印为 PDF）", "en": "Download HTML (with maps; print to PDF)"},
    # -- the street's remaining practices (issue #17): words of the pure rules ----------------------
    # public codes (governance.codes)
    "code.error.malformed": {"zh": "编码有误，请核对后重新输入。", "en": "The code is not right; check it and type it again."},
    "code.error.unknown": {"zh": "没有找到这个编码。", "en": "This code was not found."},
    "code.error.rate_limited": {
        "zh": "尝试次数过多，请 {minutes} 分钟后再试。",
        "en": "Too many attempts; try again in {minutes} minutes.",
    },
    # resident evaluation (governance.evaluation)
    "eval.title": {"zh": "网格服务群众满意度测评", "en": "Residents' evaluation of grid services"},
    "eval.intro": {
        "zh": "本测评匿名进行：网格员和领导看不到您是谁、如何作答。每张测评码只能提交一次。",
        "en": "This evaluation is anonymous: neither grid workers nor leaders can see who you are or how you answered. Each code can be used once.",
    },
    "eval.code_label": {"zh": "请输入测评纸条上的测评码", "en": "Type the code on your evaluation slip"},
    "eval.q.service": {"zh": "您对本网格网格员的服务是否满意？", "en": "How satisfied are you with your grid worker's service?"},
    "eval.q.responsiveness": {"zh": "您反映的问题，网格员是否及时响应？", "en": "Did the grid worker respond promptly when you raised something?"},
    "eval.q.resolution": {"zh": "您反映的问题是否得到解决？", "en": "Were the problems you raised resolved?"},
    "eval.q.knows_worker": {"zh": "您是否知道本网格的网格员是谁？", "en": "Do you know who your grid worker is?"},
    "eval.q.comment": {"zh": "其他意见和建议（选填）", "en": "Other comments and suggestions (optional)"},
    "eval.scale.1": {"zh": "很不满意", "en": "Very dissatisfied"},
    "eval.scale.2": {"zh": "不满意", "en": "Dissatisfied"},
    "eval.scale.3": {"zh": "一般", "en": "Neutral"},
    "eval.scale.4": {"zh": "满意", "en": "Satisfied"},
    "eval.scale.5": {"zh": "很满意", "en": "Very satisfied"},
    "eval.skip": {"zh": "不了解，跳过", "en": "Don't know, skip"},
    "eval.yes": {"zh": "知道", "en": "Yes"},
    "eval.no": {"zh": "不知道", "en": "No"},
    "eval.submit": {"zh": "提交", "en": "Submit"},
    "eval.thanks": {"zh": "提交成功，感谢您的参与！", "en": "Thank you: your answers have been received."},
    "eval.error.malformed": {
        "zh": "测评码有误，请核对纸条上的测评码（字母和数字，共 16 位）后重新输入。",
        "en": "The code is not right; check the 16 letters and digits on your slip and type it again.",
    },
    "eval.error.unknown": {"zh": "本次测评中没有这个测评码，请核对后重新输入。", "en": "This code is not part of this evaluation; check it and try again."},
    "eval.error.used": {"zh": "这个测评码已经提交过，每个测评码只能提交一次。", "en": "This code has already been used; each code can be used once."},
    "eval.error.not_open": {"zh": "本次测评尚未开始，请在测评开始后再来。", "en": "The evaluation has not started yet; please come back when it opens."},
    "eval.error.expired": {"zh": "本次测评已结束，测评码已失效。", "en": "The evaluation has ended; the code is no longer valid."},
    "eval.error.answers": {"zh": "请检查您的回答后再提交。", "en": "Please check your answers and submit again."},
    "eval.suppressed": {
        "zh": "样本不足，为保护匿名不显示结果",
        "en": "Too few responses: hidden to protect anonymity",
    },
    "eval.response_rate": {"zh": "参评率", "en": "Response rate"},
    "eval.awareness": {"zh": "知晓率", "en": "Awareness rate"},
    "eval.score": {"zh": "测评得分", "en": "Evaluation score"},
    # three-in-one assessment (governance.three_in_one)
    "tio.total": {"zh": "总分", "en": "Total"},
    "tio.term": {"zh": "{weight} × {label} {value}", "en": "{weight} × {label} {value}"},
    "tio.deduction": {"zh": "{points} × 督查未通过 {count} 次", "en": "{points} × {count} failed spot check(s)"},
    "tio.pending": {"zh": "待定（缺少{missing}）", "en": "pending (missing: {missing})"},
    "tio.note.evaluation_missing": {
        "zh": "群众评价未开展或有效样本不足，本项不计入，其权重按比例分配给其余各项。",
        "en": "No evaluation, or too few responses: it is not counted and its weight is shared out over the other parts.",
    },
    "tio.note.award_ineligible": {
        "zh": "年度考核不合格，本年度不得参加评优评先。",
        "en": "Graded unqualified for the year: not eligible for awards this year.",
    },
    "tio.ineligible": {"zh": "不得评优", "en": "Not eligible for awards"},
    # notices (governance.notices)
    "notice.wechat.header": {"zh": "【{kind}】{title}", "en": "[{kind}] {title}"},
    "notice.wechat.validity": {"zh": "有效期：{start} 至 {end}", "en": "Valid: {start} to {end}"},
    "notice.wechat.scope": {"zh": "发布范围：{scope}", "en": "Sent to: {scope}"},
    "notice.wechat.attachments": {"zh": "附件：{names}", "en": "Attachments: {names}"},
    # feedback to residents (governance.feedback)
    "feedback.error.malformed": {
        "zh": "查询码有误，请核对回执上的查询码（字母和数字，共 12 位）后重新输入。",
        "en": "The reference is not right; check the 12 letters and digits on your receipt and type it again.",
    },
    "feedback.error.unknown": {"zh": "没有找到这个查询码对应的事件。", "en": "No incident has this reference."},
    "feedback.reference": {"zh": "查询码：{reference}", "en": "Reference: {reference}"},
    # -- public pages (/public/: evaluation, incident status, contact card; api/public.py) --
    "public.site": {"zh": "网格化服务管理", "en": "Grid community services"},
    "public.no_login": {"zh": "本页面无需登录，不收集任何个人信息。", "en": "No login needed; no personal information is collected."},
    "public.eval.code_hint": {
        "zh": "测评码印在测评纸条上（共 16 位字母和数字）；扫描纸条上的二维码可直接进入。",
        "en": "The code is printed on your slip (16 letters and digits); scanning the slip's QR code opens this page with it.",
    },
    "public.eval.start": {"zh": "开始测评", "en": "Start"},
    "public.eval.round": {"zh": "测评：{title}", "en": "Evaluation: {title}"},
    "public.eval.pick_one": {"zh": "请选择一项（可跳过）", "en": "Pick one (you may skip)"},
    "public.eval.comment_limit": {"zh": "最多 {n} 字", "en": "At most {n} characters"},
    "public.eval.problem.empty": {"zh": "请至少回答一个问题后再提交。", "en": "Answer at least one question before submitting."},
    "public.eval.problem.too_long": {"zh": "意见和建议最多 {n} 字，请删减后再提交。", "en": "Comments may have at most {n} characters; shorten yours."},
    "public.eval.problem.choice": {"zh": "请从给出的选项中选择。", "en": "Pick one of the options given."},
    "public.eval.thanks_note": {
        "zh": "您的回答已匿名记录，任何人都无法看到是谁作答。现在可以关闭本页面。",
        "en": "Your answers were recorded anonymously: nobody can see who answered. You may close this page now.",
    },
    "public.eval.other_code": {"zh": "输入其他测评码", "en": "Use another code"},
    "public.status.title": {"zh": "事件办理进度查询", "en": "Incident progress"},
    "public.status.code_label": {"zh": "请输入回执上的查询码", "en": "Type the reference on your receipt"},
    "public.status.hint": {
        "zh": "查询码共 12 位字母和数字，如 ABCD-EFGH-JKMN。查询结果不显示任何个人信息。",
        "en": "The reference has 12 letters and digits, like ABCD-EFGH-JKMN. The answer shows no personal information.",
    },
    "public.status.submit": {"zh": "查询", "en": "Look up"},
    "public.status.category": {"zh": "事件类别", "en": "Category"},
    "public.status.step": {"zh": "当前进度", "en": "Current step"},
    "public.status.steps": {"zh": "办理流程", "en": "Steps"},
    "public.status.disposition": {"zh": "处置方式", "en": "Disposition"},
    "public.status.reply": {"zh": "答复", "en": "Reply"},
    "public.status.no_reply": {"zh": "暂无答复，办理完成后将在此公布。", "en": "No reply yet; it will appear here once handled."},
    "public.status.pending": {"zh": "待定", "en": "Not yet decided"},
    "public.status.reported_on": {"zh": "上报日期", "en": "Reported on"},
    "public.status.due_on": {"zh": "办理期限", "en": "Due by"},
    "public.status.closed_on": {"zh": "办结日期", "en": "Closed on"},
    "public.status.updated_on": {"zh": "最近更新", "en": "Last updated"},
    "public.status.another": {"zh": "查询其他事件", "en": "Look up another incident"},
    "public.card.title": {"zh": "网格公示卡", "en": "Grid contact card"},
    "public.card.code": {"zh": "网格编码：{code}", "en": "Grid code: {code}"},
    "public.card.contacts": {"zh": "网格服务团队", "en": "The grid's team"},
    "public.card.role": {"zh": "职务", "en": "Role"},
    "public.card.name": {"zh": "姓名", "en": "Name"},
    "public.card.phone": {"zh": "联系电话", "en": "Phone"},
    "public.card.building": {"zh": "楼栋：{building}", "en": "Building: {building}"},
    "public.card.no_contacts": {"zh": "暂无公示的联系人。", "en": "No contacts are posted yet."},
    "public.card.notices": {"zh": "通知公告", "en": "Notices"},
    "public.card.no_notices": {"zh": "目前没有通知公告。", "en": "There are no current notices."},
    "public.card.valid_to": {"zh": "有效期至 {day}", "en": "Valid until {day}"},
    "public.card.attachments": {"zh": "附件：{names}", "en": "Attachments: {names}"},
    "public.card.evaluate": {"zh": "参加网格服务满意度测评", "en": "Take part in the residents' evaluation"},
    "public.card.status": {"zh": "查询事件办理进度", "en": "Check an incident's progress"},
    "public.error.title": {"zh": "无法完成", "en": "Could not be done"},
    "public.error.not_found": {"zh": "没有这个页面，请核对网址。", "en": "There is no such page; check the address."},
    "public.error.grid_not_found": {
        "zh": "没有找到编码为 {code} 的网格，请核对公示卡上的网格编码。",
        "en": "No grid has the code {code}; check the code on the contact card.",
    },
    "public.error.unavailable": {"zh": "系统暂时无法访问，请稍后再试。", "en": "The service is unavailable right now; try again later."},
    "public.error.method": {"zh": "请通过页面上的按钮提交。", "en": "Please use the button on the page."},
    # completeness to-dos (governance.completeness)
    "todo.household_no_residents": {"zh": "该户没有居民信息，请补录家庭成员。", "en": "The household has no residents: add its members."},
    "todo.missing_name": {"zh": "居民缺少姓名，请补录。", "en": "A resident has no name: add it."},
    "todo.missing_id_number": {"zh": "居民缺少身份证号，请补录。", "en": "A resident has no ID number: add it."},
    "todo.missing_relation": {"zh": "居民缺少与户主关系，请补录。", "en": "A resident's relation to the head is missing: add it."},
    "todo.missing_phone": {"zh": "居民缺少联系电话，请补录。", "en": "A resident has no phone number: add it."},
    "todo.id_malformed": {
        "zh": "身份证号格式错误（{length} 位），应为 18 位（或旧版 15 位），请核对证件。",
        "en": "The ID number is malformed ({length} characters; expected 18, or 15 for an old card): check the card.",
    },
    "todo.id_check_digit": {
        "zh": "身份证号校验码错误：按前 17 位计算末位应为 {expected}，请核对证件。",
        "en": "The ID number's check character is wrong: the first 17 digits give {expected}. Check the card.",
    },
    "todo.id_birth_date_invalid": {"zh": "身份证号中的出生日期无效，请核对证件。", "en": "The birth date inside the ID number is not a date: check the card."},
    "todo.id_birth_mismatch": {"zh": "登记的出生日期与身份证号不一致，请核对。", "en": "The recorded birth date differs from the ID number's: check it."},
    "todo.id_age_mismatch": {
        "zh": "登记年龄 {recorded} 岁与身份证号推算的 {from_id} 岁不一致，请核对。",
        "en": "The recorded age {recorded} differs from the ID number's age {from_id}: check it.",
    },
    "todo.id_gender_mismatch": {"zh": "登记性别与身份证号不一致，请核对。", "en": "The recorded gender differs from the ID number's: check it."},
    "todo.category_age.child": {
        "zh": "标记为留守儿童，但年龄为 {age} 岁（应未满 {limit} 岁），请核对人群类别。",
        "en": "Marked as a left-behind child but aged {age} (expected under {limit}): check the category.",
    },
    "todo.category_age.elderly": {
        "zh": "标记为空巢老人，但年龄为 {age} 岁（应年满 {limit} 岁），请核对人群类别。",
        "en": "Marked as empty-nest elderly but aged {age} (expected {limit} or older): check the category.",
    },
    "todo.category_age.no_child": {
        "zh": "该户标记为留守儿童家庭，但没有未满 {limit} 岁的成员，请核对。",
        "en": "The household is marked left-behind child but no member is under {limit}: check it.",
    },
    "todo.category_age.no_elderly": {
        "zh": "该户标记为空巢老人家庭，但没有年满 {limit} 岁的成员，请核对。",
        "en": "The household is marked empty-nest elderly but no member is {limit} or older: check it.",
    },
    "todo.id_duplicate": {
        "zh": "该身份证号出现在 {count} 条居民记录中（涉及 {households} 户），请核实是否重复登记。",
        "en": "This ID number is on {count} resident records in {households} household(s): check for a duplicate.",
    },
    "todo.address_no_household": {
        "zh": "房屋“{address}”没有住户信息，请核实是否空置或漏登。",
        "en": "No household is recorded at “{address}”: check whether it is empty or was missed.",
    },
    # -- security: small counts --
    "count.suppressed": {"zh": "少于{n}", "en": "fewer than {n}"},
    # -- access: page refusals, special households per grid --
    "page.refused": {"zh": "无法打开“{page}”：{error}。", "en": "“{page}” cannot be opened. {error}."},
    "page.refused_title": {"zh": "无权访问", "en": "Not allowed"},
    "ov.special.title": {"zh": "特殊户分布（按网格汇总）", "en": "Special households per grid"},
    "ov.special.layer": {"zh": "特殊户数（按网格）", "en": "Special households per grid"},
    "ov.special.legend": {
        "zh": "图例：白色 0 户；灰色 少于{n}户（不显示具体数）；由浅到深 5–9、10–19、20–49、50 户及以上。只显示网格汇总，不显示单户位置。",
        "en": "Legend: white 0; grey fewer than {n} (not shown exactly); light to dark 5–9, 10–19, 20–49, 50 or more. "
              "Totals per grid only, never single households.",
    },
    "ov.special.summary": {
        "zh": "共 {grids} 个网格，其中 {suppressed} 个网格的特殊户少于{n}户，不显示具体数。",
        "en": "{grids} grids; in {suppressed} of them fewer than {n} special households, not shown exactly.",
    },
    # -- planner: a redraw carries its people --
    "editor.staff_moves": {"zh": "随边界调整的人员（{count} 人次）", "en": "Staff moving with the boundaries ({count})"},
    "editor.staff_moves_help": {
        "zh": "按规则建议：拆分时团队留在户数最多的新网格并暂时兼管其他新网格；合并时两支团队都并入保留的网格；其他网格人员不变。可在“去向”列修改，保存时与边界一起生效。",
        "en": "Proposed by the rule: on a split the team stays on the part with most households and covers the other parts for now; on a merge both teams join the kept grid; other grids keep their staff. Change the Goes to column; saving applies it with the boundaries.",
    },
    "editor.staff_none": {"zh": "受影响网格没有在岗人员。", "en": "No staff are assigned to the affected grids."},
    "editor.staff_to": {"zh": "去向（首个为主网格）", "en": "Goes to (first = main grid)"},
    "editor.staff_from": {"zh": "原网格", "en": "From grid"},
    "editor.staff_name": {"zh": "姓名", "en": "Name"},
    "editor.staff_rule": {"zh": "依据", "en": "Rule"},
    "editor.staff_rule.stays": {"zh": "网格保留，人员不变", "en": "Grid kept: stays"},
    "editor.staff_rule.merge": {"zh": "合并：并入保留网格", "en": "Merge: joins the kept grid"},
    "editor.staff_rule.successor": {"zh": "随新编码", "en": "Follows the new code"},
    "editor.staff_rule.split_largest": {"zh": "拆分：留在户数最多的部分并兼管", "en": "Split: part with most households, covers the rest"},
    "editor.staff_rule.no_successor": {"zh": "请选择去向", "en": "Choose where to go"},
    "editor.staff_rule.planner": {"zh": "规划员调整", "en": "Changed by the planner"},
    "editor.staff_choice_bad": {"zh": "人员去向无效：{error}", "en": "Invalid staff choice: {error}"},
    "editor.staff_flags": {"zh": "新网格的岗位情况（{count} 项需关注）", "en": "Roles of the new grids ({count} to staff)"},
    "editor.staff_flag.shared": {"zh": "暂由相邻新网格人员兼管，请尽快配备", "en": "Covered for now by the team of another part: staff it"},
    "editor.staff_flag.missing": {"zh": "无人在岗", "en": "No one assigned"},
    "editor.staff_flag_col": {"zh": "情况", "en": "Status"},
    "editor.staff_by": {"zh": "兼管人员", "en": "Covered by"},
    "editor.saved_result": {"zh": "已保存的变更 #{id}：地图已缩放到变动区域", "en": "Saved changeset #{id}: the map is zoomed to the change"},
    "editor.saved_staff": {"zh": "{name}（{role}）：{source} → {target}", "en": "{name} ({role}): {source} → {target}"},
    # -- homes --------------------------------------------------------------------------------------
    "nav.home": {"zh": "我的工作台", "en": "My workbench"},
    "nav.overview": {"zh": "街道总览", "en": "Street overview"},
    "home.title": {"zh": "我的工作台", "en": "My workbench"},
    "home.my_grid": {"zh": "我的网格", "en": "My grid"},
    "home.no_grid": {"zh": "您今天没有负责的网格，请联系网格长。", "en": "You hold no grid today; ask your grid head."},
    "home.visits_month": {"zh": "本月走访户数", "en": "Households visited this month"},
    "home.special_left": {"zh": "特殊户待访", "en": "Special households due"},
    "home.tasks": {"zh": "待办事件", "en": "Tasks"},
    "home.map_hint": {"zh": "点“定位”取手机位置，或点地图选择位置。", "en": "Tap “Locate” for the phone's position, or tap the map."},
    "home.gps.gps": {"zh": "定位", "en": "Locate"},
    "home.gps.locating": {"zh": "正在定位…", "en": "Locating…"},
    "home.gps.denied": {"zh": "未获得定位权限。请在浏览器中允许定位，或直接点地图选择位置。",
                        "en": "Location permission was denied. Allow it in the browser, or tap the map."},
    "home.gps.unavailable": {"zh": "无法获取位置（无信号或设备不支持）。请点地图选择位置。",
                             "en": "The position is unavailable (no signal or no support). Tap the map instead."},
    "home.gps.here": {"zh": "我的位置", "en": "My position"},
    "home.position": {"zh": "当前位置：经度 {lon}，纬度 {lat}", "en": "Position: longitude {lon}, latitude {lat}"},
    "home.no_position": {"zh": "尚未取得位置。", "en": "No position yet."},
    "home.tab_tasks": {"zh": "我的任务（{count}）", "en": "My tasks ({count})"},
    "home.tab_visit": {"zh": "入户走访", "en": "Record a visit"},
    "home.tab_report": {"zh": "就地上报", "en": "Report here"},
    "home.tab_recent": {"zh": "本月走访与通知", "en": "This month and notices"},
    "home.no_tasks": {"zh": "没有派给您的待办事件。", "en": "No incident is waiting for you."},
    "home.deadline": {"zh": "办理时限", "en": "Deadline"},
    "home.due": {"zh": "剩余 / 超期", "en": "Left / overdue"},
    "home.due_in": {"zh": "剩余 {duration}", "en": "{duration} left"},
    "home.overdue_by": {"zh": "已超期 {duration}", "en": "Overdue by {duration}"},
    "home.days_hours": {"zh": "{days} 天 {hours} 小时", "en": "{days} d {hours} h"},
    "home.hours": {"zh": "{hours} 小时", "en": "{hours} h"},
    "home.task_pick": {"zh": "选择任务", "en": "Task"},
    "home.handle_note": {"zh": "处置情况（必填）", "en": "What was done (required)"},
    "home.handle": {"zh": "提交处置反馈", "en": "Report handling"},
    "home.handled": {"zh": "事件 #{id} 已提交处置反馈。", "en": "Handling of incident #{id} was reported."},
    "home.refused": {"zh": "未保存：{error}", "en": "Not saved: {error}"},
    "home.no_households": {"zh": "您的网格中没有住户。", "en": "Your grid has no households."},
    "home.special_due": {"zh": "本月尚未走访的特殊户（{count} 户）", "en": "Special households not yet visited this month ({count})"},
    "home.visit_this": {"zh": "走访", "en": "Visit"},
    "home.special_mark": {"zh": "【特殊户】", "en": "[special]"},
    "home.photo": {"zh": "照片（可选，拍照或从相册选择）", "en": "Photo (optional: camera or gallery)"},
    "home.photo.empty": {"zh": "照片文件是空的，请重新选择。", "en": "The photo file is empty; choose it again."},
    "home.photo.too_large": {"zh": "照片太大（{size} 字节），最多 {limit} 字节。", "en": "The photo is too large ({size} bytes); at most {limit}."},
    "home.photo.not_image": {"zh": "所选文件不是可读取的图片。", "en": "The file is not an image that can be read."},
    "home.photo.format": {"zh": "照片须为 JPEG、PNG 或 WebP 格式（收到 {format}）。", "en": "Photos must be JPEG, PNG or WebP (got {format})."},
    "home.save_visit": {"zh": "保存走访", "en": "Save visit"},
    "home.visit_saved": {"zh": "已记录走访 #{id}：{address}", "en": "Visit #{id} recorded: {address}"},
    "home.report_needs_point": {"zh": "请先点“定位”或点地图选择事件位置。", "en": "First tap “Locate” or tap the map to give the place."},
    "home.report": {"zh": "上报事件", "en": "Report incident"},
    "home.reported": {"zh": "已上报事件 #{id}。", "en": "Incident #{id} reported."},
    "home.incident_title": {"zh": "事件 #{id}（{status}）", "en": "Incident #{id} ({status})"},
    "home.incident_meta": {"zh": "上报时间 {at} · 照片 {photos} 张", "en": "Reported {at} · {photos} photo(s)"},
    "home.no_visits": {"zh": "本月还没有走访记录。", "en": "No visit recorded this month."},
    "home.visited_at": {"zh": "走访时间", "en": "Visited at"},
    "ov.title": {"zh": "街道总览", "en": "Street overview"},
    "ov.period": {"zh": "时间段", "en": "Period"},
    "ov.preset.this_month": {"zh": "本月", "en": "This month"},
    "ov.preset.last_month": {"zh": "上月", "en": "Last month"},
    "ov.preset.this_quarter": {"zh": "本季度", "en": "This quarter"},
    "ov.preset.custom": {"zh": "自定义", "en": "Custom"},
    "ov.custom": {"zh": "起止日期", "en": "From – to"},
    "ov.custom_hint": {"zh": "请选择结束日期。", "en": "Pick the last day too."},
    "ov.custom_bad": {"zh": "结束日期早于开始日期，请重新选择。", "en": "The period ends before it starts; pick again."},
    "ov.period_is": {"zh": "统计期：{first} 至 {last}（按上报时间，北京时间）", "en": "Period: {first} to {last} (by report time, local)"},
    "ov.reported": {"zh": "上报", "en": "Reported"},
    "ov.open": {"zh": "未办结", "en": "Unresolved"},
    "ov.overdue": {"zh": "超期", "en": "Overdue"},
    "ov.closure_rate": {"zh": "办结率", "en": "Closure rate"},
    "ov.closure_help": {"zh": "办结 {closed} 件 ÷（上报 − 不予受理）", "en": "{closed} closed ÷ (reported − rejected)"},
    "ov.level": {"zh": "排名层级", "en": "Rank by"},
    "ov.level.1": {"zh": "社区", "en": "Community"},
    "ov.level.2": {"zh": "网格", "en": "Grid"},
    "ov.level.3": {"zh": "微网格", "en": "Micro-grid"},
    "ov.answer": {"zh": "未办结最多：{name}（{code}）{count} 件；负责网格长：{head}",
                  "en": "Most unresolved: {name} ({code}), {count}; responsible grid head: {head}"},
    "ov.none_open": {"zh": "本时间段没有未办结事件。", "en": "No unresolved incident in this period."},
    "ov.unresolved": {"zh": "未办结事件数", "en": "Unresolved incidents"},
    "ov.head": {"zh": "网格长", "en": "Grid head"},
    "ov.worker": {"zh": "微网格员", "en": "Micro-grid worker"},
    "ov.nobody": {"zh": "（空缺）", "en": "(vacant)"},
    "ov.drill": {"zh": "查看未办结事件清单", "en": "List the unresolved incidents of"},
    "ov.overdue_title": {"zh": "超期事件（{count} 件）", "en": "Overdue incidents ({count})"},
    "ov.days_overdue": {"zh": "超期天数", "en": "Days overdue"},
    "ov.assessment": {"zh": "考核排名（{month}）", "en": "Assessment ranking ({month})"},
    "ov.assessment_note": {"zh": "统计 {days}/{total} 天（最近一个完整月）。", "en": "Covers {days} of {total} days (the last complete month)."},
    "ov.rank": {"zh": "名次", "en": "Rank"},
    "ov.failed": {"zh": "无法计算：{error}", "en": "Cannot compute: {error}"},
    # -- end homes ----------------------------------------------------------------------------------
    # -- street practice pages -- (notices, spot checks, reminder talks, evaluation rounds, three-in-one; issue #17)
    "sp.nav.notices": {"zh": "信息推送", "en": "Notices"},
    "sp.nav.talks": {"zh": "提醒谈话", "en": "Reminder talks"},
    "sp.nav.spotchecks": {"zh": "督查抽查", "en": "Spot checks"},
    "sp.nav.evaluation": {"zh": "民主测评", "en": "Resident evaluation"},
    "sp.refused": {"zh": "未保存：{error}", "en": "Not saved: {error}"},
    "sp.yes": {"zh": "是", "en": "Yes"},
    "sp.no": {"zh": "否", "en": "No"},
    "sp.notice.home_title": {"zh": "通知公告（{count} 条，{unread} 条未读）", "en": "Notices ({count}, {unread} unread)"},
    "sp.notice.heading": {"zh": "【{kind}】{title}", "en": "[{kind}] {title}"},
    "sp.notice.validity": {"zh": "有效期：{start} 至 {end}", "en": "Valid {start} to {end}"},
    "sp.notice.read_at": {"zh": "已读（{at}）", "en": "Read ({at})"},
    "sp.notice.mark_read": {"zh": "我已阅读", "en": "Mark as read"},
    "sp.notice.marked": {"zh": "已标记为已读：{title}", "en": "Marked as read: {title}"},
    "sp.notice.page_title": {"zh": "信息推送", "en": "Notices"},
    "sp.notice.publish": {"zh": "发布通知", "en": "Publish a notice"},
    "sp.notice.kind": {"zh": "类别", "en": "Kind"},
    "sp.notice.title_field": {"zh": "标题", "en": "Title"},
    "sp.notice.body": {"zh": "正文", "en": "Text"},
    "sp.notice.valid_from": {"zh": "生效日期", "en": "Valid from"},
    "sp.notice.valid_to": {"zh": "截止日期（含当天）", "en": "Valid until (inclusive)"},
    "sp.notice.grids": {"zh": "发送到网格（含下级网格）", "en": "Send to grids (and the grids below)"},
    "sp.notice.levels": {"zh": "发送到网格层级", "en": "Send to grid levels"},
    "sp.notice.reach_hint": {
        "zh": "只选网格：该网格及其下级全部网格；只选层级：全街道该层级的网格；两者都选：所选网格下该层级的网格。",
        "en": "Grids only: those grids and every grid below; levels only: the street's grids of those levels; both: the grids of those levels below the chosen grids.",
    },
    "sp.notice.public": {"zh": "同时在公示卡和公开页面展示", "en": "Also show on the contact card and the public page"},
    "sp.notice.publish_button": {"zh": "发布", "en": "Publish"},
    "sp.notice.published": {"zh": "已发布通知 #{id}：{title}", "en": "Published notice #{id}: {title}"},
    "sp.notice.list": {"zh": "已发布的通知", "en": "Published notices"},
    "sp.notice.none": {"zh": "还没有发布过通知。", "en": "No notice has been published yet."},
    "sp.notice.valid": {"zh": "有效期", "en": "Valid"},
    "sp.notice.current": {"zh": "当前有效", "en": "Current"},
    "sp.notice.targets": {"zh": "发布范围", "en": "Sent to"},
    "sp.notice.street_wide": {"zh": "全街道", "en": "The whole street"},
    "sp.notice.author": {"zh": "发布人", "en": "Published by"},
    "sp.notice.pick": {"zh": "查看通知", "en": "Show notice"},
    "sp.notice.receipts": {"zh": "阅读回执：{read}/{total} 人已读", "en": "Read receipts: {read} of {total} have read it"},
    "sp.notice.not_read": {"zh": "尚未阅读（{count} 人）", "en": "Not read yet ({count})"},
    "sp.notice.all_read": {"zh": "应读人员已全部阅读。", "en": "Everyone it was sent to has read it."},
    "sp.notice.have_read": {"zh": "已读人员（{count} 人）", "en": "Have read it ({count})"},
    "sp.notice.read_time": {"zh": "阅读时间", "en": "Read at"},
    "sp.notice.wechat": {"zh": "复制到微信群（纯文本）", "en": "Copy for a WeChat group (plain text)"},
    "sp.spot.page_title": {"zh": "督查抽查", "en": "Supervision spot checks"},
    "sp.spot.draw": {"zh": "抽取本月样本", "en": "Draw a month's sample"},
    "sp.spot.per_worker": {"zh": "每名网格员抽查条数", "en": "Visits per worker"},
    "sp.spot.seed": {"zh": "随机种子", "en": "Seed"},
    "sp.spot.seed_help": {
        "zh": "留空则随机生成并记录；填写已记录的种子可复现同一次抽样。",
        "en": "Leave empty for a fresh seed (recorded); type a recorded seed to reproduce that draw.",
    },
    "sp.spot.seed_bad": {"zh": "随机种子“{value}”应为非负整数。", "en": "The seed “{value}” should be a non-negative whole number."},
    "sp.spot.draw_button": {"zh": "抽取", "en": "Draw"},
    "sp.spot.drawn": {
        "zh": "已抽取第 {id} 批：{month} 的 {count} 条走访，随机种子 {seed}（已记录，可复现）。",
        "en": "Draw #{id}: {count} visits of {month}, seed {seed} (recorded, reproducible).",
    },
    "sp.spot.draws": {"zh": "抽查批次", "en": "Draws"},
    "sp.spot.no_draws": {"zh": "还没有抽查批次。", "en": "No draw yet."},
    "sp.spot.population": {"zh": "当月走访总数", "en": "Visits in the month"},
    "sp.spot.items": {"zh": "抽中条数", "en": "Drawn"},
    "sp.spot.checked": {"zh": "已核查", "en": "Checked"},
    "sp.spot.failed": {"zh": "未通过", "en": "Failed"},
    "sp.spot.drawn_by": {"zh": "抽取人", "en": "Drawn by"},
    "sp.spot.drawn_at": {"zh": "抽取时间", "en": "Drawn at"},
    "sp.spot.pick": {"zh": "核查批次", "en": "Draw to work on"},
    "sp.spot.draw_label": {"zh": "第 {id} 批（{month}）", "en": "Draw #{id} ({month})"},
    "sp.spot.work": {"zh": "核查进度：{done}/{total}", "en": "Checked: {done} of {total}"},
    "sp.spot.order": {"zh": "序号", "en": "No."},
    "sp.spot.visited_at": {"zh": "走访时间", "en": "Visited at"},
    "sp.spot.reason": {"zh": "抽中原因", "en": "Why drawn"},
    "sp.spot.outcome": {"zh": "核查结果", "en": "Outcome"},
    "sp.spot.method": {"zh": "核查方式", "en": "How checked"},
    "sp.spot.note": {"zh": "核查说明", "en": "Note"},
    "sp.spot.checked_at": {"zh": "核查时间", "en": "Checked at"},
    "sp.spot.verify": {"zh": "按记录的种子复核抽样", "en": "Re-draw from the recorded seed"},
    "sp.spot.verify_ok": {"zh": "复核一致：按记录的种子和参数重新抽样，结果相同。", "en": "Reproduced: the recorded seed and settings give the same sample."},
    "sp.spot.verify_differs": {"zh": "复核不一致：发现 {count} 处差异（当月走访记录已变化）。", "en": "Not reproduced: {count} difference(s) (the month's visits have changed)."},
    "sp.spot.all_checked": {"zh": "本批次已全部核查。", "en": "Every visit of this draw has been checked."},
    "sp.spot.item": {"zh": "待核查的走访", "en": "Visit to check"},
    "sp.spot.record": {"zh": "记录核查结果", "en": "Record the outcome"},
    "sp.spot.recorded": {"zh": "已记录：{outcome}。", "en": "Recorded: {outcome}."},
    "sp.spot.recorded_failed": {
        "zh": "已记录：督查未通过，已生成提醒谈话任务，由 {leader} 负责。",
        "en": "Recorded: the check failed; a reminder talk was assigned to {leader}.",
    },
    "sp.spot.repeated": {"zh": "多次未通过的网格员（近三个月）", "en": "Workers failing repeatedly (last three months)"},
    "sp.spot.no_repeated": {"zh": "近三个月没有多次未通过的网格员。", "en": "No worker failed repeatedly in the last three months."},
    "sp.spot.failures": {"zh": "未通过次数", "en": "Failed checks"},
    "sp.spot.first_at": {"zh": "首次", "en": "First"},
    "sp.spot.last_at": {"zh": "最近", "en": "Latest"},
    "sp.talk.page_title": {"zh": "提醒谈话", "en": "Reminder talks"},
    "sp.talk.list": {"zh": "提醒谈话任务", "en": "Reminder talks"},
    "sp.talk.none": {"zh": "没有提醒谈话任务。", "en": "No reminder talk."},
    "sp.talk.leader": {"zh": "谈话负责人", "en": "Held by"},
    "sp.talk.status": {"zh": "状态", "en": "Status"},
    "sp.talk.finding": {"zh": "督查发现", "en": "Finding"},
    "sp.talk.created_at": {"zh": "布置时间", "en": "Assigned at"},
    "sp.talk.done_at": {"zh": "完成时间", "en": "Done at"},
    "sp.talk.note": {"zh": "谈话情况", "en": "How the talk went"},
    "sp.talk.mine": {"zh": "由我负责的待办谈话（{count}）", "en": "Talks for me to hold ({count})"},
    "sp.talk.mine_none": {"zh": "没有由您负责的待办谈话。", "en": "No open talk is yours to hold."},
    "sp.talk.pick": {"zh": "谈话任务", "en": "Talk"},
    "sp.talk.done_button": {"zh": "标记已完成", "en": "Mark done"},
    "sp.talk.done": {"zh": "提醒谈话 #{id} 已标记完成。", "en": "Reminder talk #{id} marked done."},
    "sp.eval.page_title": {"zh": "民主测评", "en": "Resident evaluation rounds"},
    "sp.eval.open": {"zh": "开启测评轮次", "en": "Open a round"},
    "sp.eval.period": {"zh": "测评期间", "en": "Period"},
    "sp.eval.period_help": {"zh": "月（2026-11）、季度（2026-Q4）或年度（2026）。", "en": "A month (2026-11), a quarter (2026-Q4) or a year (2026)."},
    "sp.eval.title_field": {"zh": "名称", "en": "Title"},
    "sp.eval.default_title": {"zh": "{period} 网格服务群众满意度测评", "en": "{period} residents' evaluation of grid services"},
    "sp.eval.grids": {"zh": "测评网格（含下级网格）", "en": "Grids (and the grids below)"},
    "sp.eval.opens": {"zh": "开始日期", "en": "Opens on"},
    "sp.eval.closes": {"zh": "结束日期（含当天）", "en": "Closes after (inclusive)"},
    "sp.eval.min_group": {"zh": "最少公布样本数", "en": "Smallest group shown"},
    "sp.eval.questions": {"zh": "测评题目", "en": "Questions"},
    "sp.eval.issue_now": {"zh": "同时为每户生成测评码", "en": "Issue a code for every household now"},
    "sp.eval.open_button": {"zh": "开启测评", "en": "Open the round"},
    "sp.eval.opened": {"zh": "已开启测评轮次 #{id}：{title}", "en": "Opened round #{id}: {title}"},
    "sp.eval.codes_ready": {"zh": "测评轮次 #{id} 新生成测评码 {count} 个", "en": "Round #{id}: {count} new codes"},
    "sp.eval.codes_once": {
        "zh": "测评码只在生成时提供这一次，请立即下载并打印分发；系统只保存其校验值，无法再次导出。",
        "en": "The codes are offered this once: download and print them now. Only their keyed hashes are kept; they cannot be exported again.",
    },
    "sp.eval.download_codes": {"zh": "下载测评码（CSV，含公开测评网址）", "en": "Download the codes (CSV, with the public page's address)"},
    "sp.eval.csv.code": {"zh": "测评码", "en": "Code"},
    "sp.eval.csv.grid": {"zh": "网格编码", "en": "Grid code"},
    "sp.eval.csv.number": {"zh": "序号", "en": "Number"},
    "sp.eval.csv.expires": {"zh": "有效期至", "en": "Valid until"},
    "sp.eval.csv.url": {"zh": "测评网址", "en": "Address"},
    "sp.eval.rounds": {"zh": "测评轮次", "en": "Rounds"},
    "sp.eval.no_rounds": {"zh": "还没有测评轮次。", "en": "No round yet."},
    "sp.eval.window": {"zh": "测评时间", "en": "Open"},
    "sp.eval.status": {"zh": "状态", "en": "Status"},
    "sp.eval.status.open": {"zh": "进行中", "en": "Open"},
    "sp.eval.status.closed": {"zh": "已结束", "en": "Closed"},
    "sp.eval.codes": {"zh": "已发测评码", "en": "Codes issued"},
    "sp.eval.responses": {"zh": "已回收", "en": "Responses"},
    "sp.eval.issued": {"zh": "发放数", "en": "Issued"},
    "sp.eval.pick": {"zh": "测评轮次", "en": "Round"},
    "sp.eval.issue_button": {"zh": "为尚无测评码的网格生成测评码", "en": "Issue codes for grids without any"},
    "sp.eval.close_button": {"zh": "结束本轮测评", "en": "Close the round"},
    "sp.eval.closed": {"zh": "测评轮次 #{id} 已结束，测评码已失效。", "en": "Round #{id} is closed; its codes no longer work."},
    "sp.eval.min_group_note": {"zh": "回收少于 {n} 份的分组不公布结果，以保护匿名。", "en": "Groups with fewer than {n} responses are not shown, to protect anonymity."},
    "sp.eval.by_grid": {"zh": "按网格", "en": "By grid"},
    "sp.eval.by_worker": {"zh": "按网格员", "en": "By worker"},
    "sp.eval.comments": {"zh": "意见建议", "en": "Comments"},
    "sp.eval.comment": {"zh": "意见建议", "en": "Comment"},
    "sp.eval.no_comments": {"zh": "暂无可公布的意见建议。", "en": "No comment to show."},
    "sp.eval.suppressed": {"zh": "说明", "en": "Note"},
    "sp.tio.tab": {"zh": "三合一考核", "en": "Three-in-one assessment"},
    "sp.tio.period": {"zh": "考核期间", "en": "Period"},
    "sp.tio.weights": {"zh": "三项权重（%）", "en": "Weights of the three parts (%)"},
    "sp.tio.weight.daily_points": {"zh": "日常积分", "en": "Daily points"},
    "sp.tio.weight.evaluation": {"zh": "群众评价", "en": "Residents' evaluation"},
    "sp.tio.weight.leader_rating": {"zh": "领导评价", "en": "Leader's rating"},
    "sp.tio.weights_bad": {"zh": "三项权重之和为 {total}%，应为 100%。", "en": "The weights add up to {total}%; they should add up to 100%."},
    "sp.tio.formula": {
        "zh": "总分 = 日常积分 × {daily}% + 群众评价 × {evaluation}% + 领导评价 × {leader}% − 每次督查未通过扣 {deduction} 分（各项先折算为百分制；群众评价缺失或样本不足时不计入，其权重按比例分给其余两项）。≥{excellent} 分优秀，≥{qualified} 分合格，≥{basic} 分基本合格，其余不合格；年度不合格者当年不得评优评先。",
        "en": "Total = daily points × {daily}% + residents' evaluation × {evaluation}% + leader's rating × {leader}% − {deduction} per failed spot check (each part on a 0–100 scale; a missing or too small evaluation is left out and its weight shared out over the other two). {excellent} or more: excellent, {qualified}: qualified, {basic}: basically qualified, below: unqualified; unqualified for a year means no awards that year.",
    },
    "sp.tio.not_counted": {
        "zh": "不计入考核：打卡签到、里程轨迹、在线时长、点赞、转发、投票。",
        "en": "Not counted: check-ins, mileage or tracks, time online, likes, shares, votes.",
    },
    "sp.tio.not_published": {"zh": "{period} 的三合一考核结果尚未发布。", "en": "The three-in-one result of {period} has not been published yet."},
    "sp.tio.pending": {"zh": "待定", "en": "Pending"},
    "sp.tio.grade": {"zh": "等级", "en": "Grade"},
    "sp.tio.component": {"zh": "考核项", "en": "Part"},
    "sp.tio.raw": {"zh": "原始值", "en": "As given"},
    "sp.tio.scaled": {"zh": "百分制得分", "en": "Score (0–100)"},
    "sp.tio.weight": {"zh": "实际权重", "en": "Weight applied"},
    "sp.tio.contribution": {"zh": "计入总分", "en": "Counts"},
    "sp.tio.inputs": {
        "zh": "计算依据：日常积分月份 {months}；领导评分 {ratings} 条；督查结果 {checks} 条；测评轮次 {rounds} 组。",
        "en": "Computed from: daily points of {months}; {ratings} leader rating(s); {checks} spot-check result(s); {rounds} evaluation group(s).",
    },
    "sp.tio.no_workers": {"zh": "本期没有可考核的网格员。", "en": "No worker to assess in this period."},
    "sp.tio.daily_raw": {"zh": "月均日常积分", "en": "Daily points per month"},
    "sp.tio.failed_checks": {"zh": "督查未通过", "en": "Failed spot checks"},
    "sp.tio.awards": {"zh": "评优资格", "en": "Awards"},
    "sp.tio.ineligible_years": {"zh": "不得评优（{years:list} 年度不合格）", "en": "Not eligible ({years:list}: unqualified)"},
    "sp.tio.show": {"zh": "查看网格员的计算明细", "en": "Show a worker's breakdown"},
    "sp.tio.rate": {"zh": "领导评价（{period}）", "en": "Leader's rating ({period})"},
    "sp.tio.rating": {"zh": "评分（0～100）", "en": "Rating (0–100)"},
    "sp.tio.rating_note": {"zh": "评价说明", "en": "Note"},
    "sp.tio.rate_button": {"zh": "保存评分", "en": "Save the rating"},
    "sp.tio.rated": {"zh": "已保存 {name} 的 {period} 领导评分：{rating}", "en": "Saved {name}'s rating for {period}: {rating}"},
    "sp.tio.publish": {"zh": "发布本期结果（网格员可查看本人明细）", "en": "Publish this period's results (workers then see their own breakdown)"},
    "sp.tio.published": {"zh": "已发布 {period} 的考核结果，共 {count} 名网格员。", "en": "Published the results of {period} for {count} workers."},
    "sp.todo.title": {"zh": "数据核实（{quarter}）", "en": "Records check ({quarter})"},
    "sp.todo.overview": {"zh": "数据核实与完整性（{quarter}）", "en": "Verification and completeness ({quarter})"},
    "sp.todo.verified_share": {"zh": "本季度已核实", "en": "Verified this quarter"},
    "sp.todo.overdue": {"zh": "逾期未核实（户）", "en": "Overdue (households)"},
    "sp.todo.count": {"zh": "待补正事项", "en": "To-dos"},
    "sp.todo.list": {"zh": "待补正事项（{count}）", "en": "To-dos ({count})"},
    "sp.todo.rule": {"zh": "问题类别", "en": "Problem"},
    "sp.todo.what": {"zh": "处理要求", "en": "What to do"},
    "sp.todo.check": {"zh": "立即检查数据完整性", "en": "Check completeness now"},
    "sp.todo.households": {"zh": "户数", "en": "Households"},
    "sp.todo.no_records": {"zh": "没有可核实的住户记录。", "en": "No household records to verify."},
    "sp.camera.title": {"zh": "视频监控（雪亮工程）：{count} 个", "en": "Cameras: {count}"},
    "sp.camera.key": {"zh": "编号", "en": "ID"},
    "sp.camera.type": {"zh": "类型", "en": "Type"},
    "sp.camera.status": {"zh": "状态", "en": "Status"},
    "sp.camera.stream": {"zh": "视频流地址", "en": "Stream address"},
    # -- end street practice pages --
    # -- HTTP API (/api, /ogc): error messages, Open311 and OGC API words ---------------------------
    "api.error.unauthorized": {
        "zh": "需要有效的访问令牌（请求头 Authorization: Bearer <令牌>）。令牌可能未提供、已过期或已吊销。",
        "en": "A valid access token is needed (header Authorization: Bearer <token>); it is missing, expired or revoked.",
    },
    "api.error.forbidden": {"zh": "该账号无权执行此操作。", "en": "This account may not do this."},
    "api.error.read_only": {"zh": "只读令牌不能修改数据。", "en": "A read-only token cannot change data."},
    "api.error.refused_scope": {
        "zh": "该账号不能修改其负责网格以外的数据。", "en": "This account may not change data outside its grids.",
    },
    "api.error.not_found": {"zh": "未找到所请求的对象。", "en": "Not found."},
    "api.error.retired": {
        "zh": "网格 {code} 已撤销，请查看其沿革找到替代网格。",
        "en": "Grid {code} is retired; its lineage names the grids that replaced it.",
    },
    "api.error.invalid_code": {"zh": "网格编码“{code}”格式不正确。", "en": "“{code}” is not a valid grid code."},
    "api.error.bad_point": {
        "zh": "坐标“{value}”应写为“经度,纬度”（如 113.1,29.35）。",
        "en": "Coordinates “{value}” are expected as “lon,lat” (e.g. 113.1,29.35).",
    },
    "api.error.bad_coordinates": {
        "zh": "坐标不是有效的经纬度（经度 -180 至 180，纬度 -90 至 90）。",
        "en": "The coordinates are not valid degrees (longitude -180 to 180, latitude -90 to 90).",
    },
    "api.error.bad_crs": {
        "zh": "不支持的坐标系“{value}”；可用 4490、4326、gcj02、bd09 或其他 EPSG 代码。",
        "en": "Unsupported coordinate system “{value}”; use 4490, 4326, gcj02, bd09 or another EPSG code.",
    },
    "api.error.bad_date": {"zh": "日期“{value}”应写为 YYYY-MM-DD。", "en": "Date “{value}” is expected as YYYY-MM-DD."},
    "api.error.bad_type": {
        "zh": "区域类型“{value}”应为 L1、L2、L3 等（可用逗号分隔多个）。",
        "en": "Area type “{value}” is expected as L1, L2, L3 … (several separated by commas).",
    },
    "api.error.bad_parameter": {"zh": "参数 {name} 的值“{value}”无效。", "en": "Parameter {name} has an invalid value “{value}”."},
    "api.error.missing_parameter": {"zh": "缺少参数 {name}。", "en": "Parameter {name} is missing."},
    "api.error.invalid": {"zh": "输入未通过校验，未写入任何内容。", "en": "The input failed validation; nothing was written."},
    "api.error.outside_grids": {
        "zh": "该位置不在任何网格内；最近的网格是 {code}（{name}），距离约 {distance} 米。",
        "en": "The location is outside every grid; the nearest is {code} ({name}), about {distance} m away.",
    },
    "api.error.no_grids": {"zh": "该位置不在任何网格内。", "en": "The location is outside every grid."},
    "api.error.rate_limited": {
        "zh": "请求过于频繁，请在 {seconds} 秒后重试。", "en": "Too many requests; try again in {seconds} s.",
    },
    "api.error.conflict": {
        "zh": "该对象已被他人修改，未写入任何内容，请重新读取后再试。",
        "en": "Someone else changed this meanwhile; nothing was written. Read it again and retry.",
    },
    "api.error.unavailable": {"zh": "数据库暂时无法访问，请稍后再试。", "en": "The database cannot be reached; try again later."},
    "api.error.internal": {"zh": "服务器内部错误，未写入任何内容。", "en": "Internal server error; nothing was written."},
    "api.error.method": {"zh": "该地址不支持此请求方法。", "en": "This address does not accept this method."},
    "api.error.too_large": {"zh": "请求内容过大。", "en": "The request is too large."},
    "api.area_type.1": {"zh": "一级网格（社区/村）", "en": "Level-1 grid (community or village)"},
    "api.area_type.2": {"zh": "二级网格", "en": "Level-2 grid"},
    "api.area_type.3": {"zh": "微网格", "en": "Micro-grid"},
    "api.area_type.n": {"zh": "{level}级网格", "en": "Level-{level} grid"},
    "open311.error.unknown_service": {"zh": "没有服务代码“{code}”（见 services.json）。", "en": "There is no service code “{code}” (see services.json)."},
    "open311.error.location_needed": {
        "zh": "请提供 lat 和 long（WGS 84 经纬度），或可识别的 address_string。",
        "en": "Give lat and long (WGS 84 degrees) or an address_string that can be located.",
    },
    "open311.error.address_not_found": {
        "zh": "无法确定地址“{address}”的位置，请提供 lat 和 long。",
        "en": "The address “{address}” cannot be located; give lat and long.",
    },
    "open311.error.bad_attribute": {
        "zh": "属性 {name} 的值“{value}”不是可选值之一。", "en": "Attribute {name}: “{value}” is not one of its values.",
    },
    "open311.error.unknown_attribute": {"zh": "服务没有属性 {name}。", "en": "The service has no attribute {name}."},
    "open311.error.bad_status": {"zh": "status 应为 open 或 closed。", "en": "status is expected to be open or closed."},
    "open311.error.bad_datetime": {
        "zh": "时间“{value}”应为 ISO 8601 格式（如 2026-11-01T08:00:00+08:00）。",
        "en": "Time “{value}” is expected in ISO 8601 (e.g. 2026-11-01T08:00:00+08:00).",
    },
    "open311.group": {"zh": "网格事件", "en": "Grid incidents"},
    "open311.description": {"zh": "上报“{name}”类事件，由所在微网格处置。", "en": "Report a “{name}” incident; the micro-grid where it is handles it."},
    "open311.service_notice": {
        "zh": "已上报，事件编号 {id}，已分派至网格 {grid}。", "en": "Reported as incident {id}, assigned to grid {grid}.",
    },
    "open311.service_notice_plain": {"zh": "已上报，事件编号 {id}。", "en": "Reported as incident {id}."},
    "open311.status_notes": {"zh": "{status}（第 {step}/{steps} 步）", "en": "{status} (step {step} of {steps})"},
    "open311.status_notes_disposition": {
        "zh": "{status}（第 {step}/{steps} 步）；处置方式：{disposition}",
        "en": "{status} (step {step} of {steps}); disposition: {disposition}",
    },
    "open311.agency": {"zh": "{grid_name}（{grid_code}），微网格员 {worker}", "en": "{grid_name} ({grid_code}), micro-grid worker {worker}"},
    "open311.agency_no_worker": {"zh": "{grid_name}（{grid_code}）", "en": "{grid_name} ({grid_code})"},
    "open311.attr.location_detail": {"zh": "具体位置（楼栋、单元、门牌等）", "en": "Exact place (building, entrance, door …)"},
    "open311.attr.urgency": {"zh": "紧急程度", "en": "Urgency"},
    "open311.attr.urgency.normal": {"zh": "一般", "en": "Normal"},
    "open311.attr.urgency.urgent": {"zh": "紧急", "en": "Urgent"},
    "ogc.title": {"zh": "网格化治理平台 OGC API", "en": "GridGov OGC API"},
    "ogc.description": {
        "zh": "网格边界（各层级，可按日期查询历史）、各网格事件数量及视频点位。住户与居民信息不在此发布。",
        "en": "Grid boundaries (every level, as of any date), incident counts per grid and camera points. "
              "Households and residents are not published here.",
    },
    "ogc.grids": {"zh": "{level_name}", "en": "{level_name}"},
    "ogc.grids_description": {
        "zh": "{level_name}边界；datetime 参数按日期返回当时的边界。",
        "en": "{level_name} boundaries; datetime= answers as of a date.",
    },
    "ogc.counts": {"zh": "{level_name}事件数", "en": "Incidents per {level_name}"},
    "ogc.counts_description": {
        "zh": "账号可见范围内每个{level_name}的事件总数、未办结数和最近上报时间。",
        "en": "Incidents, open incidents and the latest report of each {level_name} the account may see.",
    },
    "ogc.cameras": {"zh": "视频点位", "en": "Cameras"},
    "ogc.cameras_description": {"zh": "雪亮工程视频点位（不含视频流地址）。", "en": "Camera points (without stream URLs)."},
    # -- vector tiles --
    "tiles.unauthenticated": {"zh": "请先登录（会话无效或已过期），或提供有效的访问令牌。",
                              "en": "Log in first (no valid session), or send a valid access token."},
    "tiles.forbidden": {"zh": "您的角色无权查看该图层。", "en": "Your role may not see this layer."},
    "tiles.not_found": {"zh": "没有这个图层。", "en": "There is no such layer."},
    "tiles.bad_request": {"zh": "瓦片地址或参数有误。", "en": "The tile address or its parameters are wrong."},
    "tiles.mode_note": {
        "zh": "网格较多（{count} 个），地图以矢量瓦片显示；放大后显示编码标注。",
        "en": "Many grids ({count}): the map is drawn from vector tiles; zoom in for code labels.",
    },
    "tiles.density_layer": {"zh": "事件密度", "en": "Incident density"},
    "tiles.switch": {"zh": "图层", "en": "Layers"},
    "tiles.points_off": {
        "zh": "网格较多时不逐点显示住户与事件；事件以密度图层显示。",
        "en": "With this many grids households and incidents are not drawn one by one; incidents show as density.",
    },
    # -- streetcli: reference codes given to reporters (issue #17 point 7) --
    "feedback.reference_notice": {
        "zh": "查询码：{reference}（凭此码可在公开页面查看办理进度）。",
        "en": " Reference: {reference} (use it on the public page to follow the progress).",
    },
    # -- streetcli: printed evaluation slips (etl/slips.py) --
    "slip.grid": {"zh": "网格：{grid}", "en": "Grid: {grid}"},
    "slip.expires": {"zh": "有效期至 {day}", "en": "Valid until {day}"},
    "slip.how": {
        "zh": "请用手机扫描二维码，或打开下面的网址输入测评码。每个测评码只能提交一次，匿名填写。",
        "en": "Scan the QR code with your phone, or open the address below and type the code. One response per code; anonymous.",
    },
    "slip.number": {"zh": "第 {number}/{count} 张", "en": "Slip {number} of {count}"},
    # -- Chinese everywhere: monthly report files, audit labels, empty tables, charts (issue #13.6) --
    "report.title": {"zh": "{month} 月度联席会议报告", "en": "Monthly joint-meeting report {month}"},
    "report.sheet.summary": {"zh": "概况", "en": "Summary"},
    "report.sheet.by_category": {"zh": "分类统计", "en": "By category"},
    "report.sheet.hard_cases": {"zh": "疑难及超期事项", "en": "Hard cases"},
    "report.sheet.per_grid": {"zh": "各网格情况", "en": "Per grid"},
    "report.sheet.workers": {"zh": "网格员排名", "en": "Workers"},
    "report.sheet.maps": {"zh": "地图", "en": "Maps"},
    "report.head.summary": {"zh": "概况", "en": "Summary"},
    "report.head.by_category": {"zh": "事件分类统计（类别 × 处置方式）", "en": "Incidents by category and disposition"},
    "report.head.maps": {"zh": "地图", "en": "Maps"},
    "report.head.hard_cases": {"zh": "疑难及超期事项（未办结）", "en": "Open hard cases and overdue incidents"},
    "report.head.per_grid": {"zh": "各网格情况", "en": "Per-grid figures"},
    "report.head.workers": {"zh": "网格员考核排名", "en": "Worker ranking"},
    "report.none": {"zh": "（无）", "en": "(none)"},
    "report.map.heatmap": {"zh": "{month} 事件热力图", "en": "Incident heatmap {month}"},
    "report.map.choropleth": {"zh": "{month} 各网格事件数", "en": "Incidents per micro-grid {month}"},
    "report.map.incidents": {"zh": "事件数（起）", "en": "Incidents"},
    "report.item.item": {"zh": "项目", "en": "Item"},
    "report.item.value": {"zh": "数值", "en": "Value"},
    "report.item.month": {"zh": "月份", "en": "Month"},
    "report.item.meeting_date": {"zh": "联席会议日期", "en": "Meeting date"},
    "report.item.as_of": {"zh": "统计截至", "en": "Figures as of"},
    "report.item.reported": {"zh": "本月上报（起）", "en": "Reported this month"},
    "report.item.rejected": {"zh": "不予受理（起）", "en": "Rejected"},
    "report.item.closed": {"zh": "本月办结（起）", "en": "Closed this month"},
    "report.item.closure_rate": {"zh": "办结率", "en": "Closure rate"},
    "report.item.open_now": {"zh": "当前在办（起）", "en": "Open now"},
    "report.item.overdue_now": {"zh": "当前超期（起）", "en": "Overdue now"},
    "report.item.hard_cases": {"zh": "疑难事项（起）", "en": "Hard cases"},
    "report.no_rate": {"zh": "—（本月无受理事件）", "en": "— (no incident accepted this month)"},
    "report.category": {"zh": "类别", "en": "Category"},
    "report.unclassified": {"zh": "未分类", "en": "Unclassified"},
    "report.total": {"zh": "合计", "en": "Total"},
    "report.col.id": {"zh": "事件编号", "en": "Incident no."},
    "report.col.category": {"zh": "类别", "en": "Category"},
    "report.col.grid_code": {"zh": "网格编码", "en": "Grid code"},
    "report.col.grid_name": {"zh": "网格名称", "en": "Grid name"},
    "report.col.status": {"zh": "状态", "en": "Status"},
    "report.col.disposition": {"zh": "处置方式", "en": "Disposition"},
    "report.col.reported_at": {"zh": "上报时间", "en": "Reported at"},
    "report.col.deadline": {"zh": "办理时限", "en": "Deadline"},
    "report.col.overdue_hours": {"zh": "已超期（天/小时）", "en": "Overdue by (days/hours)"},
    "report.col.assigned_to": {"zh": "承办人编号", "en": "Assignee no."},
    "report.col.assigned_to_name": {"zh": "承办人", "en": "Assigned to"},
    "report.col.description": {"zh": "事件描述", "en": "Description"},
    "report.col.rank": {"zh": "排名", "en": "Rank"},
    "report.col.staff_id": {"zh": "人员编号", "en": "Staff no."},
    "report.col.name": {"zh": "姓名", "en": "Name"},
    "report.col.grid_codes": {"zh": "负责网格", "en": "Grids"},
    "report.col.level": {"zh": "网格层级", "en": "Grid level"},
    "report.col.households": {"zh": "住户数（户）", "en": "Households"},
    "report.col.special_households": {"zh": "特殊户（户）", "en": "Special households"},
    "report.col.visits_made": {"zh": "已走访（户）", "en": "Households visited"},
    "report.col.visits_required": {"zh": "应走访（户）", "en": "Visits required"},
    "report.col.special_covered": {"zh": "特殊户已走访（户）", "en": "Special households visited"},
    "report.col.incidents_discovered": {"zh": "发现事件（起）", "en": "Incidents found"},
    "report.col.incidents_closed": {"zh": "办结事件（起）", "en": "Incidents closed"},
    "report.col.closure_rate": {"zh": "办结率（%）", "en": "Closure rate (%)"},
    "report.col.median_hours_to_close": {"zh": "办结用时中位数（小时）", "en": "Median time to close (hours)"},
    "report.col.overdue": {"zh": "超期事件（起）", "en": "Overdue incidents"},
    "report.col.score": {"zh": "积分", "en": "Score"},
    "audit_action.insert": {"zh": "新增", "en": "Added"},
    "audit_action.update": {"zh": "修改", "en": "Changed"},
    "audit_action.delete": {"zh": "删除", "en": "Deleted"},
    "audit_action.login": {"zh": "登录", "en": "Login"},
    "audit_action.logout": {"zh": "退出登录", "en": "Logout"},
    "audit_action.login_failed": {"zh": "登录失败", "en": "Failed login"},
    "audit_action.lockout": {"zh": "账号锁定", "en": "Account locked"},
    "audit_action.token_created": {"zh": "签发接口令牌", "en": "API token issued"},
    "audit_action.token_revoked": {"zh": "吊销接口令牌", "en": "API token revoked"},
    "audit_action.account_created": {"zh": "新建账号", "en": "Account created"},
    "audit_action.accounts_created": {"zh": "批量新建账号", "en": "Accounts created"},
    "audit_action.account_disabled": {"zh": "停用账号", "en": "Account disabled"},
    "audit_action.password_changed": {"zh": "修改密码", "en": "Password changed"},
    "audit_action.grant": {"zh": "授予网格", "en": "Grids granted"},
    "audit_action.revoke": {"zh": "收回网格", "en": "Grids withdrawn"},
    "audit_action.export": {"zh": "导出", "en": "Export"},
    "audit_action.read_personal": {"zh": "查看个人信息", "en": "Personal data read"},
    "audit_action.view_photo": {"zh": "查看照片", "en": "Photo viewed"},
    "audit_action.move_staff": {"zh": "人员调岗", "en": "Staff moved"},
    "audit_action.evaluation_open": {"zh": "开启测评", "en": "Evaluation opened"},
    "audit_action.evaluation_codes": {"zh": "生成测评码", "en": "Evaluation codes made"},
    "audit_action.evaluation_close": {"zh": "结束测评", "en": "Evaluation closed"},
    "audit_action.assessment_publish": {"zh": "发布考核结果", "en": "Assessment published"},
    "audit_action.completeness_check": {"zh": "信息完整性检查", "en": "Completeness check"},
    "audit_action.verify_household": {"zh": "核实住户信息", "en": "Household verified"},
    "audit_action.read_stream": {"zh": "调阅视频", "en": "Camera stream opened"},
    "audit_action.api_call": {"zh": "接口调用", "en": "API call"},
    "audit_action.spot_check_draw": {"zh": "抽取督查样本", "en": "Spot-check sample drawn"},
    "audit_action.spot_check_outcome": {"zh": "登记督查结果", "en": "Spot-check outcome"},
    "audit_action.reminder_talk_done": {"zh": "完成提醒谈话", "en": "Reminder talk held"},
    "audit_action.tiles": {"zh": "读取地图瓦片", "en": "Map tiles read"},
    "audit_action.any": {"zh": "全部操作", "en": "All actions"},
    "audit_object.account": {"zh": "账号", "en": "Account"},
    "audit_object.accounts": {"zh": "账号", "en": "Accounts"},
    "audit_object.account_grants": {"zh": "账号授权", "en": "Account grants"},
    "audit_object.session": {"zh": "登录会话", "en": "Session"},
    "audit_object.api": {"zh": "数据接口", "en": "API"},
    "audit_object.changesets": {"zh": "边界变更", "en": "Changesets"},
    "audit_object.grid_codes": {"zh": "网格编码", "en": "Grid codes"},
    "audit_object.grids": {"zh": "网格", "en": "Grids"},
    "audit_object.grid_versions": {"zh": "网格版本", "en": "Grid versions"},
    "audit_object.code_lineage": {"zh": "编码沿革", "en": "Code lineage"},
    "audit_object.households": {"zh": "住户", "en": "Households"},
    "audit_object.residents": {"zh": "居民", "en": "Residents"},
    "audit_object.houses": {"zh": "房屋", "en": "Houses"},
    "audit_object.staff": {"zh": "人员", "en": "Staff"},
    "audit_object.staff_assignments": {"zh": "人员岗位", "en": "Staff assignments"},
    "audit_object.roster": {"zh": "人员花名册", "en": "Staff roster"},
    "audit_object.incidents": {"zh": "事件", "en": "Incidents"},
    "audit_object.incident_events": {"zh": "事件办理记录", "en": "Incident events"},
    "audit_object.incident_submissions": {"zh": "群众上报", "en": "Resident submissions"},
    "audit_object.incident_contacts": {"zh": "上报人联系方式", "en": "Reporter contacts"},
    "audit_object.visits": {"zh": "走访记录", "en": "Visits"},
    "audit_object.photos": {"zh": "照片", "en": "Photos"},
    "audit_object.monthly_report": {"zh": "月度联席会议报告", "en": "Monthly report"},
    "audit_object.evaluation_rounds": {"zh": "满意度测评", "en": "Evaluation rounds"},
    "audit_object.evaluation_responses": {"zh": "测评答卷", "en": "Evaluation responses"},
    "audit_object.leader_ratings": {"zh": "领导评价", "en": "Leader ratings"},
    "audit_object.assessment_results": {"zh": "考核结果", "en": "Assessment results"},
    "audit_object.spot_check_draws": {"zh": "督查抽样", "en": "Spot-check draws"},
    "audit_object.spot_check_items": {"zh": "督查样本", "en": "Spot-check items"},
    "audit_object.spot_check_outcomes": {"zh": "督查结果", "en": "Spot-check outcomes"},
    "audit_object.reminder_talks": {"zh": "提醒谈话", "en": "Reminder talks"},
    "audit_object.notices": {"zh": "通知公告", "en": "Notices"},
    "audit_object.notice_targets": {"zh": "通知范围", "en": "Notice targets"},
    "audit_object.notice_reads": {"zh": "通知阅读", "en": "Notice reads"},
    "audit_object.cameras": {"zh": "视频点位", "en": "Cameras"},
    "audit_object.completeness_todos": {"zh": "信息补录待办", "en": "Completeness to-dos"},
    "audit_object.tiles": {"zh": "地图瓦片", "en": "Map tiles"},
    "table.empty": {"zh": "暂无数据。", "en": "No data."},
    "table.empty_filtered": {"zh": "没有符合条件的记录。", "en": "No records match."},
    "upload.button": {"zh": "选择文件", "en": "Upload"},
    "upload.limit": {"zh": "每个文件不超过 {mb} MB", "en": "{mb} MB per file"},
    "a11y.skip": {"zh": "跳到主要内容", "en": "Skip to main content"},
    # -- phone layout and the leader's heatmap (issue #13 points 2, 3) --
    "phone.picked": {"zh": "所选位置", "en": "Chosen point"},
    "phone.view": {"zh": "视图", "en": "View"},
    "phone.tapped": {"zh": "所选位置：{lon}, {lat} · 网格 {code} {name}", "en": "Chosen point: {lon}, {lat} · grid {code} {name}"},
    "phone.tapped_outside": {"zh": "所选位置：{lon}, {lat}（不在可查看的网格内）",
                             "en": "Chosen point: {lon}, {lat} (outside the grids you may see)"},
    "ov.heat_title": {"zh": "事件热力图", "en": "Incident heatmap"},
    "ov.heat_hint": {"zh": "一次显示一层：在地图右上角的图层按钮中切换“全部事件”“未办结”“超期”。",
                     "en": "One layer at a time: switch between all, unresolved and overdue in the map's layer button."},
    "ov.heat.reported": {"zh": "全部事件", "en": "All incidents"},
    "ov.heat.open": {"zh": "未办结", "en": "Unresolved"},
    "ov.heat.overdue": {"zh": "超期", "en": "Overdue"},
    # -- end phone layout --
}


def _vocabulary_entries() -> dict[str, dict[str, str]]:
    """``role.micro_worker``-style entries for every code of :mod:`governance.vocab` (one catalogue)."""
    from governance.vocab import VOCABULARIES

    return {
        f"{prefix}.{term.code}": {"zh": term.zh, "en": term.en}
        for prefix, vocabulary in VOCABULARIES.items()
        for term in vocabulary
    }


CATALOGUE.update(_vocabulary_entries())


def _account_role_entries() -> dict[str, dict[str, str]]:
    """``account_role.worker``-style entries from the permission matrix's role labels."""
    from access.permissions import ROLE_LABELS

    return {f"account_role.{role}": {"zh": zh, "en": en} for role, (zh, en) in ROLE_LABELS.items()}


CATALOGUE.update(_account_role_entries())


def _error_entries() -> dict[str, dict[str, str]]:
    """``error.<code>`` (domain errors) and ``finding.<rule>`` (problems found in a plan or a file) entries."""
    from i18n.messages import MESSAGES

    return dict(MESSAGES)


CATALOGUE.update(_error_entries())


def translate(key: str, lang: str = "zh", /, **kwargs: object) -> str:
    """The text of ``key`` in ``lang`` (``zh``/``en``), formatted with ``kwargs``.

    Placeholders take :meth:`str.format` specs, and these words of their own (see :class:`_Words`):
    ``{status:status}`` the label of a domain code (any label prefix: ``role``, ``category``,
    ``action`` …), ``{codes:list}`` a list joined by the language's separator, ``{roles:role*}`` a
    list of labels, ``{field:key}`` a catalogue key worded, ``{hours:duration}`` hours as days and
    hours, ``{at:time}`` / ``{day:date}`` a moment / day in the local zone.

    Raises
    ------
    KeyError
        If ``key`` is not in the catalogue (a programming error, caught by the tests), or a
        placeholder has no value.
    """
    try:
        entry = CATALOGUE[key]
    except KeyError:
        raise KeyError(f"UI text key {key!r} is not in i18n.catalogue.CATALOGUE") from None
    text = entry.get(lang) or entry["zh"]
    return _Words(lang).format(text, **kwargs) if kwargs else text


class _Words(string.Formatter):
    """:meth:`str.format` with the catalogue's own format specs (see :func:`translate`)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        spec = format_spec
        if spec == "list":
            return translate("list.sep", self.lang).join(str(v) for v in _as_list(value))
        if spec.endswith("*") and _is_prefix(spec[:-1]):
            return translate("list.sep", self.lang).join(label(spec[:-1], v, self.lang) for v in _as_list(value))
        if spec == "key":
            return translate(str(value), self.lang) if str(value) in CATALOGUE else str(value)
        if spec == "duration":
            return duration(value, self.lang)
        if spec == "errors":
            return translate("list.problem_sep", self.lang).join(
                describe_error(v, self.lang).rstrip("。.") for v in _as_list(value))
        if spec in ("time", "date"):
            return _moment(value, spec)
        if spec and _is_prefix(spec):
            return label(spec, value, self.lang)
        return super().format_field(value, format_spec)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        return [value]


def _is_prefix(spec: str) -> bool:
    """Whether ``spec`` is a label prefix (``status``, ``role`` …: some key starts with ``spec.``)."""
    if not spec or not all(ch.isalnum() or ch in "._" for ch in spec):
        return False
    return spec in _label_prefixes()


_PREFIXES: set[str] = set()


def _label_prefixes() -> set[str]:
    if not _PREFIXES:
        _PREFIXES.update(key.rsplit(".", 1)[0] for key in CATALOGUE if "." in key)
    return _PREFIXES


def _moment(value: object, kind: str) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            from gis.clock import zone

            value = value.astimezone(zone())
        return value.strftime("%Y-%m-%d %H:%M" if kind == "time" else "%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def duration(hours: object, lang: str = "zh", /) -> str:
    """A length of time given in hours, as whole days and hours (``3 天 5 小时``, ``3 days 5 hours``).

    Under an hour it is minutes; ``None``/NaN is the empty string (no ``nan`` on a page).
    """
    try:
        value = float(hours)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if value != value:
        return ""
    sign = "-" if value < 0 else ""
    total_minutes = int(round(abs(value) * 60))
    days, minutes = divmod(total_minutes, 24 * 60)
    whole_hours, minutes = divmod(minutes, 60)
    if days:
        text = translate("unit.days_hours", lang, days=days, hours=whole_hours)
    elif whole_hours:
        text = translate("unit.hours", lang, hours=whole_hours)
    else:
        text = translate("unit.minutes", lang, minutes=minutes)
    return sign + text


def label(prefix: str, value: object, lang: str = "zh", /) -> str:
    """The label of a domain code (``role``, ``status``, ``category`` …) in ``lang``; unknown codes as they are."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    key = f"{prefix}.{value}"
    return translate(key, lang) if key in CATALOGUE else str(value)


def _check(catalogue: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Keys missing a language (used by the tests)."""
    return [k for k, v in catalogue.items() if any(not v.get(lang) for lang in LANGUAGES)]


def error_key(exc: BaseException) -> str:
    """The catalogue key a page words ``exc`` with.

    An explicit ``i18n_key`` (public-code errors), else ``error.<code>`` of the error, else the code
    of its class or of the nearest base class that has an entry, else ``error.failed``: never the
    exception's own (English) message.
    """
    explicit = getattr(exc, "i18n_key", None)
    if isinstance(explicit, str) and explicit in CATALOGUE:
        return explicit
    candidates = [getattr(exc, "code", None)]
    candidates += [vars(klass).get("code") for klass in type(exc).__mro__]
    for code in candidates:
        if isinstance(code, str) and f"error.{code}" in CATALOGUE:
            return f"error.{code}"
    return "error.failed"


def describe_error(exc: BaseException, lang: str = "zh", /) -> str:
    """A domain error in words of the catalogue, in ``lang``, formatted with its ``params``.

    When the entry of the error's code cannot be formatted with its params (a programming error the
    unit tests look for), the entry of its class is used instead and the mismatch logged.
    """
    params: Mapping[str, Any] = getattr(exc, "params", None) or {}
    key = error_key(exc)
    try:
        return translate(key, lang, **params) if params else _plain(key, lang)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        logger.warning("cannot word %s with %s; using its class's words", key, sorted(params), exc_info=True)
    for klass in type(exc).__mro__:
        code = vars(klass).get("code")
        if isinstance(code, str) and f"error.{code}" in CATALOGUE and _placeholders(f"error.{code}") <= set():
            return translate(f"error.{code}", lang)
    return translate("error.failed", lang)


def _placeholders(key: str) -> set[str]:
    fields: set[str] = set()
    for text in CATALOGUE[key].values():
        fields |= {f for _, f, _, _ in string.Formatter().parse(text) if f}
    return fields


def _plain(key: str, lang: str) -> str:
    """``key`` with no params: an entry that needs some is refused (KeyError), as ``str.format`` would."""
    if _placeholders(key):
        raise KeyError(f"{key} needs {sorted(_placeholders(key))}")
    return translate(key, lang)


def describe_finding(rule: str, lang: str = "zh", /, *, codes: object = (), params: Mapping[str, Any] | None = None) -> str:
    """A problem found in a plan or a file (``Finding.rule`` / ``RowProblem.rule``) in words, in ``lang``.

    ``finding.<rule>`` formatted with ``codes`` (the grids involved) and ``params``; a rule without an
    entry is worded by ``finding.other`` (with the rule's code shown, never an English message).
    """
    values = {"codes": [str(c) for c in _as_list(codes)], **dict(params or {})}
    key = f"finding.{rule}"
    if key in CATALOGUE:
        try:
            return translate(key, lang, **values)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            logger.warning("cannot word %s with %s", key, sorted(values), exc_info=True)
    return translate("finding.other", lang, rule=rule, codes=values["codes"])
