"""The deterministic demo subdistrict: Songyanghu Street (松杨湖街道), Yunxi District, Yueyang.

:func:`generate_demo` builds, from a seed and without a database or the clock, a complete
street: 6 level-1 grids carrying the real statistical codes and names of the street's
communities and villages (the boundaries are synthetic: none are published), 25 level-2
grids, 133 micro-grids, 6,297 households with residents, the staff roster, about a year of
incidents with their workflow events, and the last quarter of household visits.

How the boundaries are made (all in metres in CGCS2000 / 3-degree Gauss-Krüger zone 38,
EPSG:4547, then transformed to EPSG:4490):

1. a street outline with a lake shore in the south-east, and an urban zone in the west;
2. a jittered lattice of points, dense in the urban zone (≈130 m blocks) and sparse in the
   villages (≈330 m); the edges of their Voronoi cells are the "roads";
3. the road lines are densified, bent by a smooth deterministic displacement field (the same
   vertex always moves the same way), transformed to EPSG:4490 and noded on a 1e-7° grid;
   polygonizing them gives the blocks ("faces"), which share their edges exactly;
4. faces are grouped by competitive Dijkstra growth on the face adjacency graph (so every
   group is contiguous): level-1 grids first, then level-2 inside each level-1, then
   micro-grids inside each level-2 (seeds balanced with a few Lloyd iterations);
5. each grid is the ``coverage_union`` of its faces, so children tile their parent exactly.

Incidents are not given a status: the generator plans what the street's staff do (who
reports, accepts, classifies, dispatches, handles, closes or reopens, when, with which note)
and plays those actions through :mod:`governance.workflow` — the state machine the app and
``gridgov incident`` use — with a :class:`governance.deadlines.DeadlinePolicy`. Status,
version, disposition, assignee, deadline, ``closed_at`` and every event are what the state
machine returned. Codes (categories, roles, statuses, dispositions, special kinds, visit
kinds) are those of :mod:`governance.vocab`.

The generator is pure: :func:`store.seed.load_demo` writes a :class:`DemoData` into the
database and :func:`services.demo.load_demo` is the use case behind ``gridgov demo``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from boundaries.coding import CodeScheme, InvalidGridCodeError, default_scheme
from demo import names as zh
from demo.practices import plan_practices
from gis.crs import STORAGE_EPSG, transformer
from governance.deadlines import DeadlinePolicy
from governance.vocab import (
    DISPOSITIONS,
    INCIDENT_CATEGORIES,
    INCIDENT_STATUSES,
    SPECIAL_KINDS,
    TEAM_ROLES,
)
from governance.workflow import EventRecord, IncidentState, apply_transition, report_event

__all__ = [
    "DEMO_PASSWORD",
    "DemoData",
    "generate_demo",
    "staff_number",
    "COMMUNITIES",
    "STREET_CODE",
    "STREET_NAME",
    "DEMO_CRS_METRIC",
    "DEMO_VALID_FROM",
]

logger = logging.getLogger(__name__)

#: Statistical code and name of the demo street (township level).
STREET_CODE = "430603003"
STREET_NAME = "松杨湖街道"
#: The password of every demo account (printed by ``gridgov demo``; in the README). Change it with
#: ``gridgov user passwd NAME --password-stdin`` on any deployment that is more than a demo.
DEMO_PASSWORD = "gridgov-demo-2026"
#: CGCS2000 / 3-degree Gauss-Krüger CM 114°E: the metric CRS the demo is built in.
DEMO_CRS_METRIC = 4547
_SHANGHAI = ZoneInfo("Asia/Shanghai")
#: When the demo plan (grid version 1) takes effect, unless ``until`` is earlier than 400 days after it.
DEMO_VALID_FROM = dt.datetime(2025, 1, 1, tzinfo=_SHANGHAI)
#: Local origin (lon, lat in EPSG:4490) of the street's metric frame.
_ORIGIN_LONLAT = (113.215, 29.445)
#: Grid of the stored coordinates, in degrees (≈1 cm).
_GRID_SIZE = 1e-7


@dataclass(frozen=True)
class _Community:
    code: str
    name: str
    urban: bool
    #: Micro-grid count of each level-2 grid (its length is the number of level-2 grids).
    micro_counts: tuple[int, ...]
    #: Growth seed in local metres (x east, y north, from the street origin).
    seed: tuple[float, float]
    #: Relative household weight of the community's micro-grids.
    density: float


#: The six level-1 grids with their real statistical codes (boundaries are synthetic).
COMMUNITIES: tuple[_Community, ...] = (
    _Community("430603003001", "杨树港社区", True, (6, 6, 6, 6, 6), (1100.0, 6600.0), 1.25),
    _Community("430603003002", "擂鼓台社区", True, (6, 6, 6, 6), (3400.0, 6800.0), 1.2),
    _Community("430603003003", "菱泊湖社区", True, (7, 6, 6, 5), (1200.0, 3900.0), 1.15),
    _Community("430603003004", "茅岭头社区", True, (6, 6, 5, 5), (3500.0, 4000.0), 1.1),
    _Community("430603003200", "东风村", False, (5, 4, 4, 4), (7000.0, 6400.0), 0.7),
    _Community("430603003201", "滨湖村", False, (4, 4, 4, 4), (5600.0, 1800.0), 0.65),
)

#: (level-1 code, level-2 sequence) whose last two micro-grids share one worker.
_SHARED_WORKER_GRIDS = {("430603003200", 1), ("430603003201", 2)}

_URBAN_SPACING = 130.0  # m, lattice spacing of urban blocks
_RURAL_SPACING = 330.0  # m, lattice spacing of village blocks
_SEGMENT = 25.0  # m, densification of road lines before bending


@dataclass(frozen=True)
class DemoData:
    """The generated demo street. Geometries are EPSG:4490 (lon/lat degrees).

    Attributes
    ----------
    grids:
        code, level, parent_code, name, geometry (MultiPolygon) — 6 + 25 + 133 rows.
    households:
        household_key, address, building_no, house_no, members, special_kinds, refreshed_at,
        grid_code, geometry (Point, ≥ 2 m inside its micro-grid).
    residents:
        household_key, name, relation, gender, birth_date, id_number, phone.
    staff:
        staff_key, name, phone, organisation. Staff keys are ``ST`` + a 5-digit number
        (:func:`staff_number`); the workflow saw that number as the person's staff id.
    staff_assignments:
        staff_key, grid_code, role, start_date, end_date, building_no.
    incidents:
        incident_key, reported_at (UTC), category, description, address, status, disposition,
        reported_by, reporter_name, assigned_to (staff keys), deadline (UTC; a local midnight
        in the deadline policy's zone), closed_at (UTC), version, grid_code, geometry (Point). Status, disposition,
        assigned_to, deadline, closed_at and version are the :class:`governance.workflow.IncidentState`
        after the incident's events.
    incident_events:
        incident_key, at (UTC), action, actor, actor_staff_key, from_status, to_status, note:
        the :class:`governance.workflow.EventRecord` of each step, in order.
    visits:
        household_key, staff_key, visited_at, kind, note, grid_code.
    hotspots:
        name, kind ('market', 'school', 'old_estate', 'dock'), grid_code, geometry (Point).
    accounts:
        name, display_name, role, staff_key (or ``None``), grants (grid codes), street_wide: one
        login per role over the street (see :func:`_build_accounts`), all with :data:`DEMO_PASSWORD`.
    cameras:
        camera_key, name, type, status (codes of :data:`governance.vocab.CAMERA_TYPE_TERMS` /
        ``CAMERA_STATUS_TERMS``), stream_url (or ``None``), grid_code, geometry (Point ≥ 2.5 m inside
        its micro-grid): the 雪亮工程 point list the admin imports.
    practices:
        The :class:`demo.practices.PracticePlan` (evaluation round, spot checks, notices) that
        :meth:`play` plays through the use cases when the demo is loaded.
    planted:
        The completeness problems put in on purpose, for the checks to find: rule → household keys
        (``household_no_residents``, ``category_age``) or ``household_key:relation`` of a resident
        (``id_check_digit``, ``id_duplicate``).

    Households and residents also carry ``last_verified_at`` (aware, or missing) and ``verified_by``
    (staff key): the quarterly refresh (:func:`_add_verification`). Incidents carry ``camera_key``
    (a camera that saw it, or ``None``).
    seed, until:
        The arguments of :func:`generate_demo`.
    valid_from:
        When the demo plan (grid version 1) takes effect (aware).
    """

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    residents: pd.DataFrame
    staff: pd.DataFrame
    staff_assignments: pd.DataFrame
    incidents: gpd.GeoDataFrame
    incident_events: pd.DataFrame
    visits: pd.DataFrame
    hotspots: gpd.GeoDataFrame
    seed: int
    until: dt.date
    valid_from: dt.datetime
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    password: str = DEMO_PASSWORD
    cameras: gpd.GeoDataFrame | None = None
    practices: Any = None
    planted: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def play(self, conn: Any) -> dict[str, int]:
        """What the street's people did with the practices (:func:`demo.practices.play_practices`), on
        the demo load's connection in its transaction; called by :func:`store.seed.load_demo`."""
        from demo.practices import play_practices

        return play_practices(conn, self)

    @property
    def reason(self) -> str:
        """The reason recorded on the demo's changeset."""
        return f"加载演示数据：{STREET_NAME}（seed {self.seed}，截至 {self.until.isoformat()}）"

    @property
    def details(self) -> dict[str, Any]:
        """The details recorded on the demo's changeset (JSON-serialisable)."""
        return {"seed": int(self.seed), "until": self.until.isoformat(), "street": STREET_CODE}


# ---------------------------------------------------------------------------------------
# geometry: outline, roads, faces
# ---------------------------------------------------------------------------------------
def _origin_metric() -> tuple[float, float]:
    """EPSG:4547 easting/northing (m) of the local origin."""
    x, y = transformer(STORAGE_EPSG, DEMO_CRS_METRIC).transform(*_ORIGIN_LONLAT)
    return float(x), float(y)


def _outline_local() -> Polygon:
    """The street outline in local metres: west/north land edges, a lake shore in the south-east."""
    ring = [
        (0, 300), (600, 150), (1500, 0), (2600, 120), (3500, 0), (4200, 250),  # south edge
        (4700, 700), (5300, 1000), (6100, 950), (6800, 1500), (7300, 2300),  # lake shore
        (7900, 2800), (8500, 3100), (9000, 3700),
        (9150, 4700), (9000, 5800), (9100, 6900), (8800, 7900),  # east edge
        (7600, 8100), (6300, 7950), (5000, 8150), (3800, 8000), (2600, 8200), (1300, 8050),
        (200, 8100),  # north edge
        (0, 7000), (150, 5800), (-100, 4600), (100, 3400), (-150, 2200), (50, 1200),  # west edge
    ]
    return Polygon(ring)


def _rough(outline: Polygon, rng: np.random.Generator) -> Polygon:
    """Roughen an outline: densify to 200 m and move vertices by smoothed noise (σ≈35 m)."""
    coords = np.asarray(shapely.segmentize(outline, 200.0).exterior.coords)[:-1]
    noise = rng.normal(0.0, 60.0, coords.shape)
    smooth = (np.roll(noise, 1, axis=0) + noise + np.roll(noise, -1, axis=0)) / 3.0
    shape = Polygon(coords + smooth)
    return shape if shape.is_valid else outline


def _urban_zone_local() -> Polygon:
    """Where the dense urban lattice goes (local metres): the west and north-west."""
    return Polygon(
        [(-500, 2100), (1500, 2300), (3000, 2050), (4500, 2500), (4900, 3800), (4700, 5200),
         (5100, 6600), (4800, 8600), (-500, 8600)]
    )


def _warp(coords: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Smooth displacement (metres) of local coordinates; a function of the coordinates only.

    Three sinusoid octaves per axis (wavelengths 900 m, 230 m, 70 m; amplitudes 30 m, 6 m,
    1.2 m). The displacement gradient stays below 0.5 per axis, so the map is a bijection
    and never folds a polygon.
    """
    x = coords[:, 0]
    y = coords[:, 1]
    out = coords.copy()
    for k, (wavelength, amp) in enumerate(((900.0, 30.0), (230.0, 6.0), (70.0, 1.2))):
        w = 2 * np.pi / wavelength
        p = phases[k]
        out[:, 0] += amp * np.sin(w * (0.8 * y + 0.6 * x) + p[0]) * np.cos(w * 0.3 * x + p[1])
        out[:, 1] += amp * np.sin(w * (0.8 * x - 0.6 * y) + p[2]) * np.cos(w * 0.3 * y + p[3])
    return out


def _lattice(rng: np.random.Generator, outline: Polygon, urban: Polygon) -> np.ndarray:
    """Jittered lattice points (local metres): dense inside ``urban``, sparse elsewhere."""
    minx, miny, maxx, maxy = outline.buffer(400).bounds
    pieces = []
    for spacing, jitter, angle, inside in (
        (_URBAN_SPACING, 0.28, np.deg2rad(14.0), True),
        (_RURAL_SPACING, 0.33, np.deg2rad(-6.0), False),
    ):
        span = max(maxx - minx, maxy - miny) * 1.5
        n = int(span / spacing)
        i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
        u = i.ravel() * spacing
        v = j.ravel() * spacing
        c, s = np.cos(angle), np.sin(angle)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        x = cx + c * u - s * v
        y = cy + s * u + c * v
        keep = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        x, y = x[keep], y[keep]
        x = x + rng.uniform(-jitter, jitter, len(x)) * spacing
        y = y + rng.uniform(-jitter, jitter, len(y)) * spacing
        in_zone = shapely.contains_xy(urban, x, y)
        sel = in_zone if inside else ~in_zone
        pieces.append(np.column_stack([x[sel], y[sel]]))
    return np.concatenate(pieces)


def _faces(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks of the street.

    Returns
    -------
    faces:
        Polygons in EPSG:4490 sharing their edges exactly (vertices on a 1e-7° grid).
    centroids:
        Face centroids, local metres, shape (n, 2).
    urban:
        Whether each face's centroid lies in the urban zone.
    """
    outline = _rough(_outline_local(), rng)
    urban_zone = _urban_zone_local()
    points = _lattice(rng, outline, urban_zone)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline.buffer(500))
    roads = shapely.union_all(shapely.boundary(shapely.get_parts(cells)))
    roads = shapely.intersection(roads, outline)
    lines = shapely.union_all([roads, outline.exterior])
    lines = shapely.segmentize(lines, _SEGMENT)
    phases = rng.uniform(0, 2 * np.pi, (3, 4))
    ox, oy = _origin_metric()
    to_storage = transformer(DEMO_CRS_METRIC, STORAGE_EPSG)

    def _to_storage(coords: np.ndarray) -> np.ndarray:
        bent = _warp(coords, phases)
        lon, lat = to_storage.transform(bent[:, 0] + ox, bent[:, 1] + oy)
        return np.column_stack([lon, lat])

    lines = shapely.transform(lines, _to_storage)
    noded = shapely.union_all(shapely.get_parts(lines), grid_size=_GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    # deterministic order: by centroid (rounded), west→east within south→north rows
    metric = _faces_metric(faces)
    cent = shapely.get_coordinates(shapely.centroid(metric)) - np.array([ox, oy])
    order = np.lexsort((np.round(cent[:, 0], 3), np.round(cent[:, 1], 3)))
    faces, cent = faces[order], cent[order]
    urban = shapely.contains_xy(urban_zone, cent[:, 0], cent[:, 1])
    return faces, cent, urban


def _faces_metric(geoms: np.ndarray) -> np.ndarray:
    """EPSG:4490 geometries → EPSG:4547 metres (vertex-wise, deterministic)."""
    tr = transformer(STORAGE_EPSG, DEMO_CRS_METRIC)

    def _f(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _f)


# ---------------------------------------------------------------------------------------
# graph partition
# ---------------------------------------------------------------------------------------
def _adjacency(faces: np.ndarray) -> list[list[int]]:
    """Faces sharing an edge (not just a vertex) are neighbours."""
    tree = shapely.STRtree(faces)
    a, b = tree.query(faces, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(faces[a], faces[b])) > 0
    neighbours: list[list[int]] = [[] for _ in range(len(faces))]
    for i, j in zip(a[shared].tolist(), b[shared].tolist(), strict=True):
        neighbours[i].append(j)
        neighbours[j].append(i)
    return neighbours


def _components(nodes: np.ndarray, neighbours: list[list[int]]) -> list[list[int]]:
    """Connected components of the subgraph induced by ``nodes`` (largest first)."""
    member = set(nodes.tolist())
    seen: set[int] = set()
    comps: list[list[int]] = []
    for start in sorted(member):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            u = stack.pop()
            comp.append(u)
            for v in neighbours[u]:
                if v in member and v not in seen:
                    seen.add(v)
                    stack.append(v)
        comps.append(sorted(comp))
    comps.sort(key=lambda c: (-len(c), c[0]))
    return comps


def _grow(
    nodes: np.ndarray, seeds: list[int], neighbours: list[list[int]], centroids: np.ndarray
) -> dict[int, int]:
    """Competitive Dijkstra from ``seeds`` over the subgraph ``nodes``: node → seed index.

    Every node takes the label of the neighbour it was reached from, so each label's nodes
    are connected. Edge cost is the centroid distance (m).
    """
    member = set(nodes.tolist())
    label: dict[int, int] = {}
    heap = [(0.0, k, s) for k, s in enumerate(seeds)]
    heapq.heapify(heap)
    while heap:
        d, k, u = heapq.heappop(heap)
        if u in label:
            continue
        label[u] = k
        for v in neighbours[u]:
            if v in member and v not in label:
                heapq.heappush(heap, (d + float(np.hypot(*(centroids[u] - centroids[v]))), k, v))
    return label


def _partition(
    nodes: np.ndarray,
    count: int,
    neighbours: list[list[int]],
    centroids: np.ndarray,
    areas: np.ndarray,
    rng: np.random.Generator,
    *,
    iterations: int = 8,
) -> list[np.ndarray]:
    """Split connected ``nodes`` into ``count`` contiguous groups of similar area.

    Seeds start by farthest-point sampling and move (Lloyd) to the face nearest their group's
    area-weighted centroid. Groups are returned ordered north→south, west→east.
    """
    if len(nodes) < count:
        raise ValueError(f"cannot split {len(nodes)} faces into {count} grids")
    pts = centroids[nodes]
    first = int(rng.integers(0, len(nodes)))
    chosen = [first]
    dist = np.hypot(*(pts - pts[first]).T)
    for _ in range(count - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(pts - pts[nxt]).T))
    seeds = [int(nodes[i]) for i in chosen]
    label: dict[int, int] = {}
    for _ in range(iterations):
        label = _grow(nodes, seeds, neighbours, centroids)
        new_seeds = []
        for k in range(count):
            group = np.array([u for u in nodes.tolist() if label[u] == k])
            w = areas[group]
            target = (centroids[group] * w[:, None]).sum(axis=0) / w.sum()
            new_seeds.append(int(group[np.argmin(np.hypot(*(centroids[group] - target).T))]))
        if new_seeds == seeds:
            break
        seeds = new_seeds
    label = _grow(nodes, seeds, neighbours, centroids)
    groups = [np.array(sorted(u for u in nodes.tolist() if label[u] == k)) for k in range(count)]
    # order: rows of 1 km from north to south, then west to east
    keys = []
    for g in groups:
        cx, cy = (centroids[g] * areas[g][:, None]).sum(axis=0) / areas[g].sum()
        keys.append((-round(cy / 700.0), cx))
    order = sorted(range(count), key=lambda k: keys[k])
    return [groups[k] for k in order]


def _level1_groups(
    urban: np.ndarray, neighbours: list[list[int]], centroids: np.ndarray
) -> list[np.ndarray]:
    """Faces of each community, in :data:`COMMUNITIES` order (each group connected)."""
    urban = urban.copy()
    # make both the urban and the rural face sets connected
    for flag in (True, False):
        comps = _components(np.flatnonzero(urban == flag), neighbours)
        for comp in comps[1:]:
            urban[comp] = not flag
    groups = []
    for flag in (True, False):
        nodes = np.flatnonzero(urban == flag)
        members = [c for c in COMMUNITIES if c.urban == flag]
        seeds = []
        for c in members:
            d = np.hypot(*(centroids[nodes] - np.array(c.seed)).T)
            seeds.append(int(nodes[np.argmin(d)]))
        label = _grow(nodes, seeds, neighbours, centroids)
        groups.extend(np.array(sorted(u for u in nodes.tolist() if label[u] == k)) for k in range(len(members)))
    return groups


def _to_multi(geom: shapely.Geometry) -> MultiPolygon:
    """Wrap a Polygon as a one-part MultiPolygon (storage type of every grid)."""
    if isinstance(geom, MultiPolygon):
        return geom
    return MultiPolygon([geom])


@dataclass(frozen=True)
class _Plan:
    """Grids plus the faces they are made of (internal to the generator)."""

    grids: gpd.GeoDataFrame
    #: Faces in EPSG:4547 metres.
    faces_metric: np.ndarray
    #: Faces of each micro-grid, keyed by micro-grid code.
    micro_faces: dict[str, np.ndarray]
    #: Community of each micro-grid code.
    micro_community: dict[str, _Community]


def _build_grids(rng: np.random.Generator, scheme: CodeScheme) -> _Plan:
    """The 164 grids (EPSG:4490) and the faces each micro-grid is made of."""
    faces, centroids, urban = _faces(rng)
    neighbours = _adjacency(faces)
    areas = shapely.area(_faces_metric(faces))
    level1 = _level1_groups(urban, neighbours, centroids)
    rows: list[dict[str, object]] = []
    micro_faces: dict[str, np.ndarray] = {}
    micro_community: dict[str, _Community] = {}
    for community, l1_faces in zip(COMMUNITIES, level1, strict=True):
        l1_code = scheme.validate(community.code, level=1)
        l2_groups = _partition(l1_faces, len(community.micro_counts), neighbours, centroids, areas, rng)
        l2_geoms = []
        for seq2, (l2_faces, n_micro) in enumerate(zip(l2_groups, community.micro_counts, strict=True), start=1):
            l2_code = scheme.child_code(l1_code, seq2)
            l2_name = f"{community.name}第{zh.chinese_numeral(seq2)}网格"
            micro_groups = _partition(l2_faces, n_micro, neighbours, centroids, areas, rng)
            micro_geoms = []
            for seq3, m_faces in enumerate(micro_groups, start=1):
                geom = shapely.set_precision(shapely.coverage_union_all(faces[m_faces]), _GRID_SIZE)
                micro_geoms.append(geom)
                code = scheme.child_code(l2_code, seq3)
                micro_faces[code] = m_faces
                micro_community[code] = community
                rows.append(
                    {
                        "code": code,
                        "level": 3,
                        "parent_code": l2_code,
                        "name": f"{l2_name}{seq3}号微网格",
                        "geometry": geom,
                    }
                )
            l2_geom = shapely.set_precision(shapely.coverage_union_all(micro_geoms), _GRID_SIZE)
            l2_geoms.append(l2_geom)
            rows.append({"code": l2_code, "level": 2, "parent_code": l1_code, "name": l2_name, "geometry": l2_geom})
        l1_geom = shapely.set_precision(shapely.coverage_union_all(l2_geoms), _GRID_SIZE)
        rows.append({"code": l1_code, "level": 1, "parent_code": None, "name": community.name, "geometry": l1_geom})
    grids = pd.DataFrame(rows)
    grids["geometry"] = [_to_multi(g) for g in grids["geometry"]]
    grids = grids.sort_values(["level", "code"], kind="stable").reset_index(drop=True)
    grids["level"] = grids["level"].astype("int64")
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=STORAGE_EPSG)
    return _Plan(grids, _faces_metric(faces), micro_faces, micro_community)


# ---------------------------------------------------------------------------------------
# points
# ---------------------------------------------------------------------------------------
def _sample_uniform(area: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points (metres) inside ``area`` by rejection sampling."""
    if n == 0:
        return np.empty((0, 2))
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        batch = max(64, 4 * (n - got))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        ok = shapely.contains_xy(area, x, y)
        pts = np.column_stack([x[ok], y[ok]])[: n - got]
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)


def _sample_cluster(
    area: shapely.Geometry, centre: np.ndarray, sigma: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points (metres) around ``centre`` (Gaussian, ``sigma`` m) kept inside ``area``."""
    shapely.prepare(area)
    out: list[np.ndarray] = []
    got = 0
    for _ in range(30):
        if got >= n:
            break
        batch = max(32, 3 * (n - got))
        pts = centre + rng.normal(0.0, sigma, (batch, 2))
        ok = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
        pts = pts[ok][: n - got]
        out.append(pts)
        got += len(pts)
    if got < n:
        out.append(_sample_uniform(area, n - got, rng))
    return np.concatenate(out)


def _inner(faces_metric: np.ndarray, guard: float) -> shapely.Geometry:
    """Union of the faces shrunk by ``guard`` metres (falls back to a smaller guard)."""
    for g in (guard, guard / 2, 2.5):
        inner = shapely.union_all(shapely.buffer(faces_metric, -g))
        if not inner.is_empty and inner.area > 100.0:
            return inner
    raise ValueError("micro-grid too small to place points inside")


def _to_storage_points(xy: np.ndarray) -> np.ndarray:
    """Metric (EPSG:4547) coordinates → EPSG:4490 points on the 1e-7° grid."""
    lon, lat = transformer(DEMO_CRS_METRIC, STORAGE_EPSG).transform(xy[:, 0], xy[:, 1])
    return shapely.set_precision(shapely.points(lon, lat), _GRID_SIZE)


# ---------------------------------------------------------------------------------------
# staff
# ---------------------------------------------------------------------------------------
class _Roster:
    """Accumulates staff and assignments with sequential keys."""

    def __init__(self, rng: np.random.Generator, until: dt.date) -> None:
        self.rng = rng
        self.until = until
        self.staff: list[dict[str, object]] = []
        self._names: set[str] = set()
        self.assignments: list[dict[str, object]] = []

    def person(self, organisation: str, *, name: str | None = None, phone: str | None = None) -> str:
        """Add a person (a new unique name unless ``name`` is given); returns the staff key."""
        key = _staff_key(len(self.staff) + 1)
        generated = name is None
        while name is None or (name in self._names and generated):
            generated = True
            gender = np.array(["男" if self.rng.random() < 0.55 else "女"])
            name = zh.person_names(self.rng, gender)[0]
        self._names.add(name)
        if phone is None:
            phone = zh.mobile_numbers(self.rng, 1)[0]
        self.staff.append({"staff_key": key, "name": name, "phone": phone, "organisation": organisation})
        return key

    def start(self) -> dt.date:
        """A start date 420–1600 days before ``until`` (before every demo incident and visit)."""
        return self.until - dt.timedelta(days=int(self.rng.integers(420, 1600)))

    def assign(
        self, key: str, codes: list[str], role: str, start: dt.date, building_no: str | None = None
    ) -> None:
        """Assign ``key`` to each grid of ``codes`` in ``role`` (open-ended)."""
        for code in codes:
            self.assignments.append(
                {"staff_key": key, "grid_code": code, "role": role, "start_date": start, "end_date": None,
                 "building_no": building_no}
            )


#: The team roles filled once per level-2 grid (and on each of its micro-grids); the micro-grid
#: worker is the one role filled per micro-grid.
_LEVEL2_TEAM_ROLES = tuple(role for role in TEAM_ROLES if role != "micro_worker")


def _build_roster(grids: gpd.GeoDataFrame, roster: _Roster) -> dict[str, dict[str, str]]:
    """Assign liaison leaders, grid heads, micro workers and the five-role teams.

    Returns the team of each micro-grid: ``{micro_code: {role: staff_key}}`` with roles
    micro_worker, grid_police, family_doctor, supervisor, coordinator, grid_head (of its
    level-2 grid).
    """
    names = dict(zip(grids["code"], grids["name"], strict=True))
    children: dict[str, list[str]] = {}
    for code, parent in zip(grids["code"], grids["parent_code"], strict=True):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(code)
    teams: dict[str, dict[str, str]] = {}
    for l1 in sorted(grids.loc[grids["level"] == 1, "code"]):
        community = names[l1]
        roster.assign(roster.person(zh.ORGANISATIONS["liaison_leader"]), [l1], "liaison_leader", roster.start())
        committee = zh.committee(community)
        roster.assign(roster.person(committee), [l1], "grid_head", roster.start())
        for seq2, l2 in enumerate(sorted(children[l1]), start=1):
            micros = sorted(children[l2])
            head = roster.person(committee)
            roster.assign(head, [l2], "grid_head", roster.start())
            team = {"grid_head": head}
            for role in _LEVEL2_TEAM_ROLES:
                key = roster.person(zh.ORGANISATIONS[role])
                roster.assign(key, [l2, *micros], role, roster.start())
                team[role] = key
            # two village workers each look after the last two micro-grids of one level-2 grid
            # (131 workers for 133 micro-grids)
            shared_last_two = (l1, seq2) in _SHARED_WORKER_GRIDS
            workstation = zh.ORGANISATIONS["micro_worker"].format(community=community)
            start = roster.start()
            worker = ""
            for i, micro in enumerate(micros):
                if not (shared_last_two and i == len(micros) - 1):
                    worker = roster.person(workstation)
                    start = roster.start()
                roster.assign(worker, [micro], "micro_worker", start)
                teams[micro] = {"micro_worker": worker, **team}
    return teams


# ---------------------------------------------------------------------------------------
# households and residents
# ---------------------------------------------------------------------------------------
_TOTAL_HOUSEHOLDS = 6297
_MIN_HOUSEHOLDS = 15
_SPECIAL_SHARE = 0.08
_MEMBER_P = np.array([0.12, 0.25, 0.28, 0.20, 0.10, 0.05])  # members 1..6


def _household_counts(plan: _Plan, rng: np.random.Generator) -> dict[str, int]:
    """Households per micro-grid: at least 15, the rest by community density (total 6,297)."""
    codes = sorted(plan.micro_faces)
    weights = np.array([plan.micro_community[c].density for c in codes]) * rng.uniform(0.7, 1.3, len(codes))
    spare = _TOTAL_HOUSEHOLDS - _MIN_HOUSEHOLDS * len(codes)
    share = weights / weights.sum() * spare
    base = np.floor(share).astype(int)
    remainder = spare - base.sum()
    base[np.argsort(-(share - base), kind="stable")[:remainder]] += 1
    return dict(zip(codes, (base + _MIN_HOUSEHOLDS).tolist(), strict=True))


def _place_urban(
    faces_metric: np.ndarray, n: int, roads: tuple[str, ...], road_numbers: dict[str, int],
    rng: np.random.Generator,
) -> list[dict[str, object]]:
    """Apartment buildings in one or two estates plus self-built houses along the roads."""
    estate_area = _inner(faces_metric, 14.0)
    parts = shapely.get_parts(estate_area)
    k = min(len(parts), int(rng.integers(1, 3)))
    estates = shapely.union_all(parts[np.argsort(-shapely.area(parts), kind="stable")[:k]])
    houses_area = _inner(faces_metric, 6.0)
    rows: list[dict[str, object]] = []
    remaining = n
    while remaining > 0:
        road = roads[int(rng.integers(0, len(roads)))]
        road_numbers[road] += 1
        number = road_numbers[road]
        if rng.random() < 0.72:
            floors = int(rng.integers(3, 8))
            units = int(rng.integers(1, 4))
            flats = [(u, f, r) for u in range(1, units + 1) for f in range(1, floors + 1) for r in (1, 2)]
            take = min(remaining, max(1, int(round(len(flats) * rng.uniform(0.55, 0.95)))))
            chosen = sorted(rng.choice(len(flats), size=take, replace=False).tolist())
            site = _sample_uniform(estates, 1, rng)[0]
            jitter = rng.uniform(-2.5, 2.5, (take, 2))
            building = f"{road}{number}栋"
            for (unit, floor, room), offset in zip((flats[i] for i in chosen), jitter, strict=True):
                rows.append(
                    {"building_no": building, "house_no": f"{unit}单元{floor}{room:02d}",
                     "address_tail": f"{building}{unit}单元{floor}{room:02d}", "xy": site + offset,
                     "floors": floors}
                )
            remaining -= take
        else:
            site = _sample_uniform(houses_area, 1, rng)[0]
            rows.append({"building_no": f"{road}{number}号", "house_no": None,
                         "address_tail": f"{road}{number}号", "xy": site, "floors": 1})
            remaining -= 1
    return rows


def _place_village(
    faces_metric: np.ndarray, n: int, first_group: int, rng: np.random.Generator
) -> tuple[list[dict[str, object]], int]:
    """Houses clustered in one or two hamlets (村民小组); returns rows and the next group number."""
    area = _inner(faces_metric, 6.0)
    hamlets = 1 if n < 30 else 2
    sizes = [n] if hamlets == 1 else [n // 2, n - n // 2]
    rows: list[dict[str, object]] = []
    for h, size in enumerate(sizes):
        group = first_group + h
        centre = _sample_uniform(_inner(faces_metric, 40.0), 1, rng)[0]
        pts = _sample_cluster(area, centre, 90.0, size, rng)
        for number, xy in enumerate(pts, start=1):
            rows.append({"building_no": f"{group}组", "house_no": f"{number}号",
                         "address_tail": f"{group}组{number}号", "xy": xy, "floors": 1})
    return rows, first_group + hamlets


#: Relative frequency of each special kind (codes of :data:`governance.vocab.SPECIAL_KINDS`).
_SPECIAL_KIND_WEIGHTS = {"empty_nest": 0.4, "disabled": 0.2, "left_behind_child": 0.2, "hardship": 0.2}
#: Kinds a household may carry as its second one.
_SECOND_SPECIAL_KINDS = ("disabled", "hardship")


def _special_kinds(rng: np.random.Generator, n: int) -> list[list[str]]:
    """About 8% special households; a few carry two kinds."""
    kinds = np.array(SPECIAL_KINDS)
    p = np.array([_SPECIAL_KIND_WEIGHTS[k] for k in SPECIAL_KINDS])
    out: list[list[str]] = []
    special = rng.random(n) < _SPECIAL_SHARE
    first = rng.choice(len(kinds), size=n, p=p)
    second = rng.choice([SPECIAL_KINDS.index(k) for k in _SECOND_SPECIAL_KINDS], size=n)
    double = rng.random(n) < 0.12
    for s, a, b, d in zip(special, first, second, double, strict=True):
        if not s:
            out.append([])
        elif d and kinds[a] != kinds[b] and kinds[a] != "left_behind_child":
            out.append(sorted([str(kinds[a]), str(kinds[b])]))
        else:
            out.append([str(kinds[a])])
    return out


def _build_households(
    plan: _Plan, teams: dict[str, dict[str, str]], laggards: set[str], rng: np.random.Generator,
    now: pd.Timestamp,
) -> gpd.GeoDataFrame:
    """6,297 households (EPSG:4490 points ≥ 2 m inside their micro-grid)."""
    counts = _household_counts(plan, rng)
    road_numbers = {road: 0 for roads in zh.ROADS.values() for road in roads}
    next_group: dict[str, int] = {c.code: 1 for c in COMMUNITIES}
    rows: list[dict[str, object]] = []
    for code in sorted(plan.micro_faces):
        community = plan.micro_community[code]
        faces = plan.faces_metric[plan.micro_faces[code]]
        if community.urban:
            placed = _place_urban(faces, counts[code], zh.ROADS[community.name], road_numbers, rng)
        else:
            placed, next_group[community.code] = _place_village(faces, counts[code], next_group[community.code], rng)
        for row in placed:
            row["grid_code"] = code
            row["community"] = community
        rows.extend(placed)
    n = len(rows)
    seq: dict[str, int] = {}
    keys, addresses = [], []
    for row in rows:
        community = row["community"]
        seq[community.code] = seq.get(community.code, 0) + 1
        keys.append(f"HH{community.code}{seq[community.code]:04d}")
        addresses.append(f"{STREET_NAME}{community.name}{row['address_tail']}")
    special = _special_kinds(rng, n)
    members = rng.choice(np.arange(1, 7), size=n, p=_MEMBER_P)
    for i, kinds in enumerate(special):
        if "empty_nest" in kinds:
            members[i] = 1 + int(rng.random() < 0.6)
        elif "left_behind_child" in kinds:
            members[i] = int(rng.integers(2, 5))
    # refreshed_at: most within the last quarter, laggards' households mostly not
    lagging = np.array([teams[r["grid_code"]]["micro_worker"] in laggards for r in rows])
    recent = rng.random(n) < np.where(lagging, 0.12, 0.86)
    days = np.where(recent, rng.integers(1, 89, n), rng.integers(95, 420, n))
    minutes = rng.integers(8 * 60 + 30, 17 * 60 + 30, n)
    today = now.normalize()
    refreshed = today - pd.to_timedelta(days, unit="D") + pd.to_timedelta(minutes, unit="min")
    xy = np.array([r["xy"] for r in rows])
    return gpd.GeoDataFrame(
        {
            "household_key": keys,
            "address": addresses,
            "building_no": [r["building_no"] for r in rows],
            "house_no": [r["house_no"] for r in rows],
            "members": members.astype("int64"),
            "special_kinds": special,
            "refreshed_at": pd.DatetimeIndex(refreshed),
            "grid_code": [r["grid_code"] for r in rows],
            "floors": np.array([r["floors"] for r in rows], dtype="int64"),
        },
        geometry=_to_storage_points(xy),
        crs=STORAGE_EPSG,
    )


def _household_people(
    members: int, kinds: list[str], rng: np.random.Generator
) -> list[tuple[str, str, int]]:
    """(relation, gender, age in years) of each member; the head comes first."""
    other = {"男": "女", "女": "男"}
    head_gender = "男" if rng.random() < 0.68 else "女"
    if "empty_nest" in kinds:
        head_age = int(rng.integers(62, 89))
    elif "left_behind_child" in kinds:
        head_age = int(rng.integers(52, 76))
    else:
        head_age = int(np.clip(rng.normal(50, 14), 22, 90))
    people = [("户主", head_gender, head_age)]
    if members >= 2 and ("empty_nest" in kinds or "left_behind_child" in kinds or rng.random() < 0.85):
        people.append(("配偶", other[head_gender], int(np.clip(head_age + rng.integers(-5, 5), 20, 95))))
    while len(people) < members:
        gender = "男" if rng.random() < 0.52 else "女"
        if "left_behind_child" in kinds:
            people.append(("孙子女", gender, int(rng.integers(3, 16))))
        elif head_age < 50 and rng.random() < 0.25 and head_age + 26 <= 92:
            people.append(("父母", gender, int(head_age + rng.integers(24, 32))))
        elif head_age >= 58 and rng.random() < 0.4:
            people.append(("孙子女", gender, int(rng.integers(1, max(2, head_age - 46)))))
        else:
            child_age = head_age - int(rng.integers(23, 35))
            if child_age < 0:
                people.append(("兄弟姐妹", gender, int(np.clip(head_age + rng.integers(-6, 7), 16, 95))))
            else:
                people.append(("子女", gender, child_age))
    return people


def _build_residents(
    households: gpd.GeoDataFrame, rng: np.random.Generator, until: dt.date
) -> pd.DataFrame:
    """One row per member; ages are taken at ``until``; IDs are 18-digit with a valid check digit."""
    keys: list[str] = []
    relations: list[str] = []
    genders: list[str] = []
    ages: list[int] = []
    for key, members, kinds in zip(
        households["household_key"], households["members"], households["special_kinds"], strict=True
    ):
        for relation, gender, age in _household_people(int(members), list(kinds), rng):
            keys.append(key)
            relations.append(relation)
            genders.append(gender)
            ages.append(age)
    n = len(keys)
    gender_arr = np.array(genders)
    names = zh.person_names(rng, gender_arr)
    # birth date: ``age`` full years before ``until`` (plus up to 364 days)
    age_arr = np.array(ages)
    extra = rng.integers(1, 365, n)
    births = [
        _years_before(until, int(a)) - dt.timedelta(days=int(e)) for a, e in zip(age_arr, extra, strict=True)
    ]
    ids = zh.id_numbers(rng, births, gender_arr, region=STREET_CODE[:6])
    phones = zh.mobile_numbers(rng, n)
    phones_or_none = [p if a >= 14 else None for p, a in zip(phones, age_arr, strict=True)]
    return pd.DataFrame(
        {
            "household_key": keys,
            "name": names,
            "relation": relations,
            "gender": genders,
            "birth_date": births,
            "id_number": ids,
            "phone": phones_or_none,
        }
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------------------------------
# hotspots and incidents
# ---------------------------------------------------------------------------------------
#: (name, kind, community index, weight): places where incidents concentrate.
_HOTSPOTS: tuple[tuple[str, str, int, float], ...] = (
    ("杨树港农贸市场", "market", 0, 1.3),
    ("擂鼓台菜市场", "market", 1, 1.1),
    ("菱泊湖综合市场", "market", 2, 1.0),
    ("松杨湖学校", "school", 1, 0.8),
    ("杨树港小学", "school", 0, 0.7),
    ("茅岭头中学", "school", 3, 0.7),
    ("原化肥厂宿舍区", "old_estate", 3, 1.4),
    ("港务局老宿舍", "old_estate", 0, 1.1),
    ("菱泊湖老街", "old_estate", 2, 1.0),
    ("滨湖村渔港码头", "dock", 5, 0.6),
    ("东风村集贸点", "market", 4, 0.5),
)

#: category (codes of :data:`governance.vocab.INCIDENT_CATEGORIES`) → (share of incidents, share
#: near a hotspot, hotspot kinds, monthly factors Jan..Dec)
_CATEGORIES: dict[str, tuple[float, float, tuple[str, ...], tuple[float, ...]]] = {
    "sanitation": (0.27, 0.5, ("market", "old_estate", "dock"),
                   (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.9, 0.8)),
    "dispute": (0.14, 0.4, ("old_estate", "market"),
                (1.5, 1.6, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0, 1.0, 1.2)),
    "safety_hazard": (0.15, 0.45, ("school", "old_estate", "market"),
                      (1.4, 1.3, 1.0, 0.8, 0.9, 1.2, 1.2, 1.0, 0.8, 0.9, 1.1, 1.3)),
    "illegal_construction": (0.08, 0.3, ("old_estate", "dock"),
                             (0.6, 0.5, 1.3, 1.4, 1.3, 1.0, 0.8, 0.8, 1.2, 1.3, 1.0, 0.7)),
    "municipal": (0.14, 0.35, ("market", "school"),
                  (0.8, 0.8, 1.0, 1.2, 1.4, 1.6, 1.4, 1.1, 0.9, 0.8, 0.8, 0.8)),
    "public_order": (0.11, 0.55, ("market", "school", "dock"),
                     (1.2, 1.3, 0.9, 0.9, 1.0, 1.1, 1.2, 1.2, 1.0, 1.1, 0.9, 1.0)),
    "livelihood": (0.11, 0.25, ("old_estate",),
                   (1.4, 1.3, 1.0, 0.9, 0.9, 1.0, 1.2, 1.1, 1.0, 0.9, 1.0, 1.3)),
}
_INCIDENTS = 2640
_GUARD_M = 2.5  # minimum distance (m) of generated points from micro-grid edges


def _build_hotspots(plan: _Plan, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Markets, schools, old estates and a dock, each well inside a face of its community."""
    rows = []
    xy = []
    for name, kind, community_index, weight in _HOTSPOTS:
        community = COMMUNITIES[community_index]
        codes = sorted(c for c, com in plan.micro_community.items() if com.code == community.code)
        code = codes[int(rng.integers(0, len(codes)))]
        faces = plan.faces_metric[plan.micro_faces[code]]
        face = faces[np.argmax(shapely.area(faces))]
        point = shapely.point_on_surface(shapely.buffer(face, -30.0) if shapely.area(face) > 20000 else face)
        xy.append(shapely.get_coordinates(point)[0])
        rows.append({"name": name, "kind": kind, "weight": weight, "grid_code": code})
    return gpd.GeoDataFrame(rows, geometry=_to_storage_points(np.array(xy)), crs=STORAGE_EPSG)


def _locate(
    xy: np.ndarray, micro_metric: np.ndarray, micro_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Micro-grid code of each point (metres) and whether it is ≥ ``_GUARD_M`` inside it."""
    points = shapely.points(xy)
    tree = shapely.STRtree(micro_metric)
    p_idx, g_idx = tree.query(points, predicate="within")
    code = np.full(len(xy), None, dtype=object)
    ok = np.zeros(len(xy), dtype=bool)
    deep = shapely.distance(points[p_idx], shapely.boundary(micro_metric[g_idx])) >= _GUARD_M
    code[p_idx] = micro_codes[g_idx]
    ok[p_idx] = deep
    return code, ok


def _incident_points(
    categories: np.ndarray,
    hotspots: gpd.GeoDataFrame,
    households_xy: np.ndarray,
    micro_metric: np.ndarray,
    micro_codes: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Point (metres), micro-grid code, hotspot index and nearby household index of each incident.

    A share of each category (``_CATEGORIES``) happens near a hotspot of a fitting kind
    (Gaussian, σ 70 m), the rest near a random household (σ 25 m). Candidates closer than
    ``_GUARD_M`` to a micro-grid edge are drawn again.
    """
    n = len(categories)
    hot_xy = np.column_stack(
        transformer(STORAGE_EPSG, DEMO_CRS_METRIC).transform(
            hotspots.geometry.x.to_numpy(), hotspots.geometry.y.to_numpy()
        )
    )
    hot_kind = hotspots["kind"].to_numpy(dtype=object)
    hot_weight = hotspots["weight"].to_numpy(dtype=float)
    spot = np.full(n, -1)
    near_draw = rng.random(n)
    for category, (_, near_share, kinds, _) in _CATEGORIES.items():
        mask = (categories == category) & (near_draw < near_share)
        w = np.where(np.isin(hot_kind, kinds), hot_weight, 0.0)
        spot[mask] = rng.choice(len(hot_kind), size=int(mask.sum()), p=w / w.sum())
    xy = np.empty((n, 2))
    code = np.full(n, None, dtype=object)
    household = np.full(n, -1)
    todo = np.arange(n)
    for _ in range(20):
        near = spot[todo] >= 0
        pick = rng.integers(0, len(households_xy), len(todo))
        centre = np.where(near[:, None], hot_xy[np.maximum(spot[todo], 0)], households_xy[pick])
        sigma = np.where(near, 70.0, 25.0)[:, None]
        cand = centre + rng.normal(0.0, 1.0, (len(todo), 2)) * sigma
        c, ok = _locate(cand, micro_metric, micro_codes)
        xy[todo[ok]] = cand[ok]
        code[todo[ok]] = c[ok]
        household[todo[ok]] = np.where(near[ok], -1, pick[ok])
        todo = todo[~ok]
        if len(todo) == 0:
            break
    if len(todo):  # fall back to household points (already inside)
        pick = rng.integers(0, len(households_xy), len(todo))
        xy[todo] = households_xy[pick]
        code[todo], _ = _locate(xy[todo], micro_metric, micro_codes)
        household[todo] = pick
        spot[todo] = -1
    return xy, code, spot, household


def _report_times(categories: np.ndarray, now: pd.Timestamp, rng: np.random.Generator) -> pd.DatetimeIndex:
    """Seasonal report times over the 365 days ending at ``now`` (Asia/Shanghai office hours)."""
    n = len(categories)
    today = now.normalize()
    day_index = np.arange(365)  # 0 = today, 364 = a year ago
    days = pd.DatetimeIndex(today - pd.to_timedelta(day_index, unit="D"))
    offsets = np.empty(n, dtype=int)
    for category, (_, _, _, monthly) in _CATEGORIES.items():
        mask = categories == category
        w = np.asarray(monthly)[days.month - 1]
        offsets[mask] = rng.choice(day_index, size=int(mask.sum()), p=w / w.sum())
    hours = rng.normal(11.0, 3.2, n)
    hours = np.where((hours < 7.0) | (hours > 21.0), rng.uniform(8.0, 18.0, n), hours)
    today_limit = (now - today) / pd.Timedelta(hours=1) - 0.5
    hours = np.where(offsets == 0, rng.uniform(7.5, today_limit, n), hours)
    local = today - pd.to_timedelta(offsets, unit="D") + pd.to_timedelta(np.round(hours * 3600), unit="s")
    return pd.DatetimeIndex(local).tz_convert("UTC")


# ---------------------------------------------------------------------------------------
# the incident workflow: planned by the demo, played through governance.workflow
# ---------------------------------------------------------------------------------------
#: Share of reports the coordinator rejects.
_REJECT_SHARE = 0.05
#: Share of closed incidents the supervisor reopens (the resident was not satisfied).
_REOPEN_SHARE = 0.015
#: Share of incidents that stop moving, and the status they stop at (so the overdue list and
#: every queue of the incident page have something in them).
_STALL_SHARE = 0.04
_STALL_AT = {"accepted": 0.1, "classified": 0.1, "dispatched": 0.5, "handled": 0.3}
#: How often each disposition is chosen (codes of :data:`governance.vocab.DISPOSITIONS`).
_DISPOSITION_WEIGHTS = {"solve_now": 11, "research_assign": 5, "explain_respond": 4}
_DISPOSITION_DRAW = tuple(d for d in DISPOSITIONS for _ in range(_DISPOSITION_WEIGHTS[d]))
#: Hours from dispatch to the handling feedback, per disposition (uniform between the two).
_HANDLE_HOURS = {"solve_now": (2.0, 60.0), "research_assign": (48.0, 600.0), "explain_respond": (12.0, 140.0)}


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(0, len(options)))]


def _staff_key(number: int) -> str:
    """The demo staff key of a staff number (42 → ``"ST00042"``)."""
    return f"ST{number:05d}"


def staff_number(staff_key: str) -> int:
    """The number in a demo staff key (``"ST00042"`` → 42).

    The generator plays the workflow with these numbers as staff ids
    (:class:`governance.workflow.IncidentState` ``assigned_to``, ``actor_staff_id``); the
    frames carry the keys, which :func:`store.seed.load_demo` resolves to database ids.
    """
    return int(staff_key[2:])


def _assignee_role(category: str, disposition: str, rng: np.random.Generator) -> str:
    """Role of the team member an incident is dispatched to."""
    if disposition == "solve_now":
        if category in ("public_order", "safety_hazard") and rng.random() < 0.3:
            return "grid_police"
        return "micro_worker"
    if disposition == "explain_respond":
        return "micro_worker" if rng.random() < 0.6 else "grid_head"
    if category in ("public_order", "safety_hazard"):
        return "grid_police" if rng.random() < 0.6 else "grid_head"
    if category == "livelihood":
        return "family_doctor" if rng.random() < 0.4 else "grid_head"
    return "grid_head"


@dataclass(frozen=True)
class _Step:
    """One thing a person does about an incident: the arguments the app would pass to the workflow."""

    action: str
    #: When (UTC, whole seconds).
    at: pd.Timestamp
    #: Staff key of who acts.
    actor: str
    note: str
    disposition: str | None = None
    #: Staff key of the person an incident is dispatched to.
    assignee: str | None = None


def _note(rng: np.random.Generator, action: str, **fields: str) -> str:
    return _pick(rng, zh.EVENT_NOTES[action]).format(**fields)


def _plan_incident(
    category: str, reported_at: pd.Timestamp, team: dict[str, str], staff_names: dict[str, str],
    rng: np.random.Generator,
) -> list[_Step]:
    """What the micro-grid's team does about one incident, from the report to the last close.

    The micro-grid worker (mostly) reports; the coordinator accepts, classifies and dispatches
    or rejects; the assignee handles; the supervisor closes and now and then reopens. The plan
    does not know about "now": the caller keeps the steps that have happened.
    """
    hour = pd.Timedelta(hours=1)
    reporter = team["micro_worker"] if rng.random() < 0.86 else team[_pick(rng, ("grid_police", "supervisor", "grid_head"))]
    steps = [_Step("report", reported_at, reporter, _note(rng, "report"))]
    t = reported_at + rng.uniform(0.2, 6.0) * hour
    coordinator, supervisor = team["coordinator"], team["supervisor"]
    if rng.random() < _REJECT_SHARE:
        steps.append(_Step("reject", t.floor("s"), coordinator, _note(rng, "reject")))
        return steps
    disposition = _pick(rng, _DISPOSITION_DRAW)
    assignee = team[_assignee_role(category, disposition, rng)]
    handling = _HANDLE_HOURS[disposition]
    accepted = t
    classified = accepted + rng.uniform(0.1, 3.0) * hour
    dispatched = classified + rng.uniform(0.1, 6.0) * hour
    handled = dispatched + rng.uniform(*handling) * hour
    closed = handled + rng.uniform(2.0, 72.0) * hour
    steps += [
        _Step("accept", accepted.floor("s"), coordinator, _note(rng, "accept")),
        _Step("classify", classified.floor("s"), coordinator, _note(rng, "classify"), disposition=disposition),
        _Step("dispatch", dispatched.floor("s"), coordinator, _note(rng, "dispatch", name=staff_names[assignee]),
              assignee=assignee),
        _Step("handle", handled.floor("s"), assignee, _note(rng, "handle")),
        _Step("close", closed.floor("s"), supervisor, _note(rng, "close")),
    ]
    if rng.random() < _REOPEN_SHARE:  # reopened: the same worker handles it again, then it is closed
        reopened = closed + rng.uniform(24.0, 120.0) * hour
        handled = reopened + rng.uniform(*handling) * hour
        closed = handled + rng.uniform(2.0, 48.0) * hour
        steps += [
            _Step("reopen", reopened.floor("s"), supervisor, _note(rng, "reopen")),
            _Step("handle", handled.floor("s"), assignee, _note(rng, "handle")),
            _Step("close", closed.floor("s"), supervisor, _note(rng, "close")),
        ]
    return steps


def _play(
    steps: list[_Step], staff_names: dict[str, str], policy: DeadlinePolicy
) -> list[tuple[EventRecord, IncidentState]]:
    """Run a plan through :mod:`governance.workflow`: each step's event and the state after it.

    Raises :class:`governance.workflow.TransitionError` (or ``ValidationError``) if a step is one
    the state machine does not allow — the demo cannot invent a transition.
    """
    first = steps[0]
    state = IncidentState(id=None)
    event = report_event(actor=staff_names[first.actor], at=first.at, note=first.note,
                         actor_staff_id=staff_number(first.actor))
    played = [(event, state)]
    for step in steps[1:]:
        result = apply_transition(
            state,
            step.action,
            actor=staff_names[step.actor],
            at=step.at,
            note=step.note,
            disposition=step.disposition,
            assignee=None if step.assignee is None else staff_number(step.assignee),
            actor_staff_id=staff_number(step.actor),
            policy=policy,
        )
        state = result.state
        played.append((result.event, state))
    return played


def _build_incidents(
    households: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    plan: _Plan,
    teams: dict[str, dict[str, str]],
    staff_names: dict[str, str],
    rng: np.random.Generator,
    now: pd.Timestamp,
    policy: DeadlinePolicy,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """About a year of incidents (EPSG:4490 points) and their workflow events (UTC)."""
    shares = np.array([_CATEGORIES[c][0] for c in INCIDENT_CATEGORIES])
    category_codes = np.array(INCIDENT_CATEGORIES, dtype=object)
    categories = category_codes[rng.choice(len(category_codes), size=_INCIDENTS, p=shares / shares.sum())]
    reported = _report_times(categories, now, rng)
    order = np.argsort(reported.asi8, kind="stable")
    categories, reported = categories[order], reported[order]

    micro = plan.grids[plan.grids["level"] == 3]
    micro_codes = micro["code"].to_numpy(dtype=object)
    micro_metric = _faces_metric(micro.geometry.to_numpy())
    hh_xy = np.column_stack(
        transformer(STORAGE_EPSG, DEMO_CRS_METRIC).transform(
            households.geometry.x.to_numpy(), households.geometry.y.to_numpy()
        )
    )
    xy, codes, spot, hh = _incident_points(categories, hotspots, hh_xy, micro_metric, micro_codes, rng)
    level1_name = {c.code: c.name for c in COMMUNITIES}

    stall_at = tuple(_STALL_AT)
    stall_p = np.array(list(_STALL_AT.values()))
    runs: list[list[tuple[EventRecord, IncidentState]]] = []
    for category, at, code in zip(categories, reported, codes, strict=True):
        played = _play(_plan_incident(str(category), at, teams[code], staff_names, rng), staff_names, policy)
        stall = rng.random() < _STALL_SHARE and len(played) > 2
        if stall:
            stop = stall_at[rng.choice(len(stall_at), p=stall_p)]
            played = played[: 1 + [state.status for _, state in played].index(stop)]
        runs.append(played)
    cut = [sum(1 for event, _ in played if event.at <= now) for played in runs]
    # make sure every status is present: stop the latest suitable incidents early
    for status in INCIDENT_STATUSES:
        if any(runs[i][cut[i] - 1][1].status == status for i in range(len(runs))):
            continue
        for i in range(len(runs) - 1, -1, -1):
            statuses = [state.status for _, state in runs[i][: cut[i]]]
            if status in statuses[:-1]:
                cut[i] = statuses.index(status) + 1
                break

    rows, events = [], []
    day_seq: dict[str, int] = {}
    for i, played in enumerate(runs):
        done = played[: cut[i]]
        state = done[-1][1]
        local_day = f"{reported[i].tz_convert(_SHANGHAI):%Y%m%d}"
        day_seq[local_day] = day_seq.get(local_day, 0) + 1
        key = f"SJ{local_day}{day_seq[local_day]:03d}"
        code = codes[i]
        community = level1_name[code[: len(COMMUNITIES[0].code)]]
        if spot[i] >= 0:
            place = str(hotspots["name"].iloc[spot[i]])
        else:
            place = str(households["building_no"].iloc[hh[i]])
        template = _pick(rng, zh.INCIDENT_TEMPLATES[str(categories[i])])
        reporter = _staff_key(done[0][0].actor_staff_id)
        rows.append(
            {
                "incident_key": key,
                "reported_at": reported[i],
                "category": str(categories[i]),
                "description": template.format(place=place),
                "address": f"{STREET_NAME}{community}{place}附近",
                "status": state.status,
                "disposition": state.disposition,
                "reported_by": reporter,
                "reporter_name": staff_names[reporter],
                "assigned_to": None if state.assigned_to is None else _staff_key(state.assigned_to),
                "deadline": state.deadline,
                "closed_at": state.closed_at,
                "version": state.version,
                "grid_code": code,
            }
        )
        for event, _ in done:
            events.append(
                {"incident_key": key, "at": event.at, "action": event.action, "actor": event.actor,
                 "actor_staff_key": _staff_key(event.actor_staff_id), "from_status": event.from_status,
                 "to_status": event.to_status, "note": event.note}
            )
    incidents = pd.DataFrame(rows)
    for column in ("deadline", "closed_at"):
        incidents[column] = pd.to_datetime(incidents[column], utc=True)
    incidents["version"] = incidents["version"].astype("int64")
    incidents = gpd.GeoDataFrame(incidents, geometry=_to_storage_points(xy), crs=STORAGE_EPSG)
    incident_events = pd.DataFrame(events)
    incident_events["at"] = pd.to_datetime(incident_events["at"], utc=True)
    return incidents, incident_events


# ---------------------------------------------------------------------------------------
# building heads and visits
# ---------------------------------------------------------------------------------------
def _add_building_heads(
    households: gpd.GeoDataFrame, residents: pd.DataFrame, roster: _Roster
) -> None:
    """A building head (楼栋长) for every urban building of 4+ floors: the head of its first household."""
    level1_name = {c.code: c.name for c in COMMUNITIES}
    tall = households[households["floors"] >= 4]
    first = tall.drop_duplicates("building_no", keep="first").sort_values("household_key", kind="stable")
    heads = residents[residents["relation"] == "户主"].set_index("household_key")
    for key, building, code in zip(first["household_key"], first["building_no"], first["grid_code"], strict=True):
        community = level1_name[code[: len(COMMUNITIES[0].code)]]
        person = heads.loc[key]
        phone = person["phone"] if isinstance(person["phone"], str) else None
        staff_key = roster.person(
            zh.committee(community), name=str(person["name"]), phone=phone
        )
        roster.assign(staff_key, [code], "building_head", roster.start(), building_no=str(building))


def _month_starts(now: pd.Timestamp, months: int) -> list[pd.Timestamp]:
    """Local month starts from ``months`` months before ``now``'s month up to ``now``'s month."""
    current = now.normalize().replace(day=1)
    return [current - pd.DateOffset(months=k) for k in range(months, -1, -1)]


def _build_visits(
    households: gpd.GeoDataFrame,
    teams: dict[str, dict[str, str]],
    laggards: set[str],
    rng: np.random.Generator,
    now: pd.Timestamp,
) -> pd.DataFrame:
    """Visits over the last three full months and the current month to date (Asia/Shanghai).

    Every refresh of household data in the window is a ``data_refresh`` visit; special
    households get a monthly ``special`` visit; ``routine`` visits top each worker up to 12–18
    households a month — except the laggards, who stay well short of 10.
    """
    starts = _month_starts(now, 3)
    ends = [*starts[1:], now]
    worker = households["grid_code"].map(lambda c: teams[c]["micro_worker"]).to_numpy(dtype=object)
    keys = households["household_key"].to_numpy(dtype=object)
    codes = households["grid_code"].to_numpy(dtype=object)
    refreshed = pd.DatetimeIndex(households["refreshed_at"])
    special = households["special_kinds"].map(len).to_numpy() > 0
    rows: list[tuple[str, str, pd.Timestamp, str, str]] = []

    def _when(start: pd.Timestamp, end: pd.Timestamp, n: int) -> pd.DatetimeIndex:
        days = max(1, (end.normalize() - start).days)
        day = rng.integers(0, days, n)
        minutes = rng.integers(8 * 60 + 30, 17 * 60 + 30, n)
        return pd.DatetimeIndex(start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(minutes, unit="min"))

    in_window = np.flatnonzero(refreshed >= starts[0])
    for i in in_window:
        rows.append((keys[i], worker[i], refreshed[i], "data_refresh", codes[i]))
    lagging = np.array([w in laggards for w in worker])
    for start, end in zip(starts, ends, strict=True):
        fraction = min(1.0, (end - start) / pd.Timedelta(days=30))
        chosen = special & (rng.random(len(keys)) < np.where(lagging, 0.45, 0.97) * fraction)
        idx = np.flatnonzero(chosen)
        for i, at in zip(idx, _when(start, end, len(idx)), strict=True):
            rows.append((keys[i], worker[i], at, "special", codes[i]))
    frame = pd.DataFrame(rows, columns=["household_key", "staff_key", "visited_at", "kind", "grid_code"])
    # routine visits: top every worker up to a monthly target of distinct households
    frame["month"] = [t.strftime("%Y-%m") for t in frame["visited_at"]]
    seen = frame.groupby(["staff_key", "month"])["household_key"].agg(set).to_dict()
    by_worker: dict[str, np.ndarray] = {}
    for w in sorted(set(worker.tolist())):
        by_worker[w] = np.flatnonzero(worker == w)
    extra: list[tuple[str, str, pd.Timestamp, str, str]] = []
    for w, members in by_worker.items():
        for start, end in zip(starts, ends, strict=True):
            fraction = min(1.0, (end - start) / pd.Timedelta(days=30))
            target = int(round((rng.integers(2, 7) if w in laggards else rng.integers(12, 19)) * fraction))
            done = seen.get((w, f"{start:%Y-%m}"), set())
            pool = [i for i in members.tolist() if keys[i] not in done]
            need = min(len(pool), max(0, target - len(done)))
            picks = rng.choice(len(pool), size=need, replace=False) if need else np.array([], dtype=int)
            for j, at in zip(picks, _when(start, end, need), strict=True):
                i = pool[int(j)]
                extra.append((keys[i], w, at, "routine", codes[i]))
    frame = pd.concat(
        [frame.drop(columns="month"),
         pd.DataFrame(extra, columns=["household_key", "staff_key", "visited_at", "kind", "grid_code"])],
        ignore_index=True,
    )
    frame["visited_at"] = pd.to_datetime(frame["visited_at"]).dt.tz_convert(_SHANGHAI)
    frame = frame[frame["visited_at"] <= now]
    frame = frame.sort_values(["visited_at", "household_key"], kind="stable").reset_index(drop=True)
    frame["note"] = [_pick(rng, zh.VISIT_NOTES[k]) for k in frame["kind"]]
    return frame[["household_key", "staff_key", "visited_at", "kind", "note", "grid_code"]]


def _nullable(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return ``frame`` with ``columns`` as object dtype holding ``None`` for missing values."""
    out = frame.copy()
    for column in columns:
        values = out[column].astype(object)
        out[column] = pd.Series([None if pd.isna(v) else v for v in values], index=out.index, dtype=object)
    return out


# ---------------------------------------------------------------------------------------
# the street's practices: verification stamps, planted problems, cameras
# ---------------------------------------------------------------------------------------
def _quarter_starts(now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Local midnights starting ``now``'s quarter and the one before (Asia/Shanghai)."""
    start = now.normalize().replace(month=3 * ((now.month - 1) // 3) + 1, day=1)
    return start, start - pd.DateOffset(months=3)


def _add_verification(
    households: gpd.GeoDataFrame, residents: pd.DataFrame, teams: dict[str, dict[str, str]], laggards: set[str],
    rng: np.random.Generator, now: pd.Timestamp,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """``last_verified_at`` / ``verified_by`` of every household and its residents (quarterly refresh).

    A household whose data was refreshed this quarter was verified then (the refresh visit). Of the
    others, most of an ordinary worker's are verified later this quarter and the rest last quarter
    (pending) or earlier (overdue); the laggards' are mostly overdue, some never verified. The
    verifier is the micro-grid's worker; residents carry their household's stamp.
    """
    start, previous = _quarter_starts(now)
    n = len(households)
    worker = households["grid_code"].map(lambda c: teams[c]["micro_worker"]).to_numpy(dtype=object)
    lagging = np.isin(worker, sorted(laggards))
    refreshed = pd.DatetimeIndex(households["refreshed_at"])
    draw = rng.random(n)
    verified_p = np.where(lagging, 0.2, 0.9)
    pending_p = np.where(lagging, 0.3, 0.08)
    status = np.where(draw < verified_p, "verified", np.where(draw < verified_p + pending_p, "pending", "overdue"))
    never = (status == "overdue") & (rng.random(n) < np.where(lagging, 0.3, 0.0))

    def _between(lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DatetimeIndex:
        days = max(1, (hi.normalize() - lo).days)
        day = rng.integers(0, days, n)
        minutes = rng.integers(8 * 60 + 30, 17 * 60 + 30, n)
        return pd.DatetimeIndex(lo + pd.to_timedelta(day, unit="D") + pd.to_timedelta(minutes, unit="min"))

    this_quarter, last_quarter = _between(start, now), _between(previous, start)
    earlier = _between(previous - pd.Timedelta(days=270), previous)
    at = pd.Series(np.where(status == "verified", this_quarter, np.where(status == "pending", last_quarter, earlier)))
    at = pd.to_datetime(at, utc=True).dt.tz_convert(_SHANGHAI)
    at = at.where(at <= now, now - pd.Timedelta(hours=1))
    refreshed_now = (refreshed >= start) & (refreshed <= now)
    at = at.where(~np.asarray(refreshed_now), pd.Series(refreshed, index=at.index))
    at = at.where(~(never & ~np.asarray(refreshed_now)))
    by = pd.Series(worker, dtype=object).where(at.notna().to_numpy(), None)
    households = households.assign(last_verified_at=pd.DatetimeIndex(at), verified_by=by.to_numpy(dtype=object))
    stamps = households.set_index("household_key")[["last_verified_at", "verified_by"]]
    residents = residents.assign(
        last_verified_at=pd.DatetimeIndex(residents["household_key"].map(stamps["last_verified_at"])),
        verified_by=residents["household_key"].map(stamps["verified_by"]).astype(object).to_numpy(),
    )
    return households, residents


def _plant_problems(
    households: gpd.GeoDataFrame, residents: pd.DataFrame, rng: np.random.Generator, until: dt.date,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, tuple[str, ...]]]:
    """A few records that break the completeness rules ("不漏一户、不少一人、不错一项"), for the checks to find.

    * ``id_check_digit``: a resident whose ID number ends in a wrong GB 11643 check character;
    * ``category_age``: a left-behind-child (留守儿童) household whose only child is 17;
    * ``id_duplicate``: a person registered in two households (the same name, birth date and ID);
    * ``household_no_residents``: a one-person household whose resident record is gone (members 0).

    Counts stay: the household count, and residents only move between the records.
    """
    residents = _left_behind_children(households, residents.copy(), rng, until)
    households = households.copy()
    plain = households.loc[households["special_kinds"].map(len) == 0, "household_key"]
    village = households["building_no"].fillna("").str.endswith("组")
    planted: dict[str, tuple[str, ...]] = {}

    def pick(keys: pd.Series) -> str:
        keys = keys.sort_values(kind="stable")
        return str(keys.iloc[int(rng.integers(0, len(keys)))])

    # a wrong check character
    adults = residents.loc[residents["relation"].isin(["户主", "配偶"]) & residents["household_key"].isin(plain)]
    i = adults.index[int(rng.integers(0, len(adults)))]
    number = str(residents.at[i, "id_number"])
    right = zh.id_check_digit(number[:17])
    wrong = "0123456789X"[("0123456789X".index(right) + 1 + int(rng.integers(0, 9))) % 11]
    residents.at[i, "id_number"] = number[:17] + wrong
    planted["id_check_digit"] = (f"{residents.at[i, 'household_key']}:{residents.at[i, 'relation']}",)

    # a left-behind child who is 17
    children = residents.loc[residents["relation"] == "孙子女"]
    lbc = households.loc[households["special_kinds"].map(lambda k: "left_behind_child" in k), "household_key"]
    single = children.groupby("household_key").size()
    candidates = pd.Series(sorted(set(lbc) & set(single.index[single == 1])), dtype=object)
    key = pick(candidates)
    j = residents.index[(residents["household_key"] == key) & (residents["relation"] == "孙子女")][0]
    birth = _years_before(until, 17) - dt.timedelta(days=int(rng.integers(20, 300)))
    first17 = f"{STREET_CODE[:6]}{birth:%Y%m%d}{str(residents.at[j, 'id_number'])[14:17]}"
    residents.at[j, "birth_date"] = birth
    residents.at[j, "id_number"] = first17 + zh.id_check_digit(first17)
    if residents.at[j, "phone"] is None:
        residents.at[j, "phone"] = zh.mobile_numbers(rng, 1)[0]
    planted["category_age"] = (key,)

    # one person in two households: a grown child registered at their parents' and at their own
    grown = residents.loc[(residents["relation"] == "子女") & residents["household_key"].isin(plain)]
    grown = grown.loc[pd.to_datetime(grown["birth_date"]) < pd.Timestamp(_years_before(until, 20))]
    a = grown.index[int(rng.integers(0, len(grown)))]
    others = grown.loc[(grown["household_key"] != residents.at[a, "household_key"]) & (grown["gender"] == residents.at[a, "gender"])]
    b = others.index[int(rng.integers(0, len(others)))]
    for column in ("name", "gender", "birth_date", "id_number", "phone"):
        residents.at[b, column] = residents.at[a, column]
    planted["id_duplicate"] = tuple(f"{residents.at[k, 'household_key']}:子女" for k in (a, b))

    # a household whose only resident record is gone
    members = households.set_index("household_key")["members"]
    taken = {k.split(":")[0] for keys in planted.values() for k in keys}
    lone = pd.Series([k for k in households.loc[village, "household_key"] if members[k] == 1 and k in set(plain)
                      and k not in taken], dtype=object)
    empty = pick(lone)
    residents = residents.loc[residents["household_key"] != empty].reset_index(drop=True)
    households.loc[households["household_key"] == empty, "members"] = 0
    planted["household_no_residents"] = (empty,)
    return households, residents, planted


def _left_behind_children(
    households: gpd.GeoDataFrame, residents: pd.DataFrame, rng: np.random.Generator, until: dt.date,
) -> pd.DataFrame:
    """A two-person left-behind-child (留守儿童) household is a grandparent with the grandchild: the second
    member (drawn as a spouse) becomes a grandchild aged 3–15, with a new name, birth date and ID number
    (so the only such household with no child under 16 is the one planted on purpose)."""
    lbc = set(households.loc[households["special_kinds"].map(lambda k: "left_behind_child" in k), "household_key"])
    has_child = set(residents.loc[residents["relation"] == "孙子女", "household_key"])
    rows = residents.index[residents["household_key"].isin(sorted(lbc - has_child)) & (residents["relation"] == "配偶")]
    if not len(rows):
        return residents
    genders = np.where(rng.random(len(rows)) < 0.52, "男", "女")
    births = [_years_before(until, int(a)) - dt.timedelta(days=int(e))
              for a, e in zip(rng.integers(3, 16, len(rows)), rng.integers(1, 365, len(rows)), strict=True)]
    taken = set(residents["id_number"].str[:17])
    numbers = []
    for birth, gender in zip(births, genders, strict=True):
        while True:
            (number,) = zh.id_numbers(rng, [birth], np.array([gender]), region=STREET_CODE[:6])
            if number[:17] not in taken:
                break
        taken.add(number[:17])
        numbers.append(number)
    residents.loc[rows, "relation"] = "孙子女"
    residents.loc[rows, "gender"] = genders
    residents.loc[rows, "name"] = zh.person_names(rng, genders)
    residents.loc[rows, "birth_date"] = pd.Series(births, index=rows, dtype=object)
    residents.loc[rows, "id_number"] = numbers
    ages = np.array([(until - b).days // 365 for b in births])
    residents.loc[rows, "phone"] = pd.Series(
        [p if a >= 14 else None for p, a in zip(residents.loc[rows, "phone"], ages, strict=True)], index=rows, dtype=object)
    return residents


#: How often each camera type and status occurs (codes of the vocabularies).
_CAMERA_TYPES = {"bullet": 0.36, "dome": 0.2, "hemisphere": 0.2, "face": 0.1, "vehicle": 0.1, "other": 0.04}
_CAMERA_STATUS = {"online": 0.82, "offline": 0.08, "fault": 0.05, "maintenance": 0.03, "removed": 0.02}
_CAMERAS = 60
_CAMERA_SPOTS = ("东门", "西门", "南门", "北门", "路口", "广场", "停车场", "主干道", "巷口", "桥头")


def _build_cameras(plan: _Plan, hotspots: gpd.GeoDataFrame, households: gpd.GeoDataFrame,
                   rng: np.random.Generator) -> gpd.GeoDataFrame:
    """About 60 cameras (雪亮工程): one at each hotspot, the rest in micro-grids weighted by households.

    Every point is ≥ 2.5 m inside its micro-grid (EPSG:4490).
    """
    codes = sorted(plan.micro_faces)
    weights = households.groupby("grid_code").size().reindex(codes).fillna(0).to_numpy(dtype=float)
    spot_codes = hotspots["grid_code"].astype(str).tolist()
    extra = rng.choice(len(codes), size=_CAMERAS - len(spot_codes), p=weights / weights.sum())
    chosen = spot_codes + [codes[int(k)] for k in extra]
    hot_xy = np.column_stack(transformer(STORAGE_EPSG, DEMO_CRS_METRIC).transform(
        hotspots.geometry.x.to_numpy(), hotspots.geometry.y.to_numpy()))
    xy, names = [], []
    building = households.groupby("grid_code")["building_no"].agg(lambda b: sorted(set(b.dropna())))
    for k, code in enumerate(chosen):
        area = _inner(plan.faces_metric[plan.micro_faces[code]], 5.0)
        spot = _CAMERA_SPOTS[int(rng.integers(0, len(_CAMERA_SPOTS)))]
        if k < len(spot_codes):
            point = _sample_cluster(area, hot_xy[k], 25.0, 1, rng)[0]
            names.append(f"{hotspots['name'].iloc[k]}{spot}")
        else:
            point = _sample_uniform(area, 1, rng)[0]
            places = building.get(code, [])
            place = places[int(rng.integers(0, len(places)))] if places else plan.micro_community[code].name
            names.append(f"{place}{spot}")
        xy.append(point)
    n = len(chosen)
    types = list(_CAMERA_TYPES)
    statuses = list(_CAMERA_STATUS)
    kind = rng.choice(len(types), size=n, p=np.array(list(_CAMERA_TYPES.values())))
    state = rng.choice(len(statuses), size=n, p=np.array(list(_CAMERA_STATUS.values())))
    streams = rng.random(n) < 0.5
    keys = [f"XL{STREET_CODE}{k + 1:04d}" for k in range(n)]
    return gpd.GeoDataFrame(
        {
            "camera_key": keys,
            "name": names,
            "type": [types[int(t)] for t in kind],
            "status": [statuses[int(t)] for t in state],
            "stream_url": [f"rtsp://10.73.{1 + k // 200}.{10 + k % 200}:554/Streaming/Channels/101" if s else None
                           for k, s in enumerate(streams)],
            "grid_code": chosen,
        },
        geometry=_to_storage_points(np.array(xy)),
        crs=STORAGE_EPSG,
    )


def _camera_incidents(incidents: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, rng: np.random.Generator) -> list[object]:
    """The camera (key) that saw a few public-order and safety incidents: the nearest one within 120 m."""
    seen: list[object] = [None] * len(incidents)
    to_metric = transformer(STORAGE_EPSG, DEMO_CRS_METRIC)
    cam = shapely.points(np.column_stack(to_metric.transform(cameras.geometry.x.to_numpy(), cameras.geometry.y.to_numpy())))
    pts = shapely.points(np.column_stack(to_metric.transform(incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy())))
    tree = shapely.STRtree(cam)
    nearest, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    near = np.full(len(incidents), np.inf)
    which = np.full(len(incidents), -1)
    near[nearest[0]] = dist
    which[nearest[0]] = nearest[1]
    fits = incidents["category"].isin(["public_order", "safety_hazard", "municipal"]).to_numpy() & (near <= 120.0)
    for i in np.flatnonzero(fits & (rng.random(len(incidents)) < 0.5))[:15]:
        seen[int(i)] = str(cameras["camera_key"].iloc[int(which[i])])
    return seen


# ---------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------
_LAGGARDS = 8  # micro-grid workers who fall short of the visit targets


def _valid_from(until: dt.date) -> dt.datetime:
    """:data:`DEMO_VALID_FROM`, or 400 days before ``until`` when that is earlier (local midnight)."""
    earliest = dt.datetime.combine(until - dt.timedelta(days=400), dt.time(0, 0), tzinfo=_SHANGHAI)
    return min(DEMO_VALID_FROM, earliest)


def _check_scheme(scheme: CodeScheme) -> None:
    """Refuse schemes that cannot hold the street's 12-digit codes in three levels."""
    if scheme.levels != 3 or scheme.widths[0] != 12:
        raise InvalidGridCodeError(
            f"the demo street needs a 3-level code scheme whose level-1 codes are the 12-digit "
            f"statistical codes (widths like 12,3,3), but the scheme has widths {scheme.widths!r}"
        )


def _build_accounts(staff: pd.DataFrame, assignments: pd.DataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """One login per role over the demo street.

    ``admin``, ``leader`` (street leader), ``planner``, ``inspector`` (纪工委) see the whole street;
    ``leader-001`` is the first community's liaison leader; ``head-001`` … ``head-006`` the grid heads of
    the six communities (their subtree); ``worker-001`` … the micro-grid workers, numbered in the order
    of their first grid code, linked to their staff records (their micro-grid(s)); ``police``,
    ``doctor``, ``supervisor``, ``coordinator`` the five-role team of the first micro-grid.
    """
    names = dict(zip(staff["staff_key"], staff["name"]))
    level1 = sorted(grids.loc[grids["level"] == 1, "code"])
    rows: list[dict[str, object]] = [
        {"name": "admin", "display_name": "系统管理员", "role": "admin", "staff_key": None, "grants": [], "street_wide": True},
        {"name": "leader", "display_name": "街道领导", "role": "leader", "staff_key": None, "grants": [],
         "street_wide": True},
        {"name": "planner", "display_name": "网格规划员", "role": "planner", "staff_key": None, "grants": [],
         "street_wide": True},
        {"name": "inspector", "display_name": "纪工委督查员", "role": "inspector", "staff_key": None, "grants": [],
         "street_wide": True},
    ]
    active = assignments.loc[assignments["end_date"].isna()]
    first_liaison = active.loc[(active["role"] == "liaison_leader") & (active["grid_code"] == level1[0])]
    if len(first_liaison):
        key = first_liaison["staff_key"].iloc[0]
        rows.append({"name": "leader-001", "display_name": names.get(key, ""), "role": "leader", "staff_key": key,
                     "grants": [level1[0]], "street_wide": False})
    heads = active.loc[(active["role"] == "grid_head") & active["grid_code"].isin(level1)].sort_values("grid_code")
    for k, row in enumerate(heads.itertuples(index=False), start=1):
        rows.append({"name": f"head-{k:03d}", "display_name": names.get(row.staff_key, ""), "role": "grid_head",
                     "staff_key": row.staff_key, "grants": [row.grid_code], "street_wide": False})
    workers = active.loc[active["role"] == "micro_worker"].sort_values(["grid_code", "staff_key"])
    codes_of = workers.groupby("staff_key", sort=False)["grid_code"].apply(lambda c: sorted(set(c)))
    order = sorted(codes_of.index, key=lambda key: codes_of[key][0])
    for k, key in enumerate(order, start=1):
        rows.append({"name": f"worker-{k:03d}", "display_name": names.get(key, ""), "role": "worker", "staff_key": key,
                     "grants": list(codes_of[key]), "street_wide": False})
    first_micro = sorted(grids.loc[grids["level"] == grids["level"].max(), "code"])[0]
    team = active.loc[active["grid_code"] == first_micro]
    for staff_role, role in (("grid_police", "police"), ("family_doctor", "doctor"), ("supervisor", "supervisor"),
                             ("coordinator", "coordinator")):
        member = team.loc[team["role"] == staff_role]
        if len(member):
            key = member["staff_key"].iloc[0]
            rows.append({"name": role, "display_name": names.get(key, ""), "role": role, "staff_key": key,
                         "grants": [first_micro], "street_wide": False})
    return pd.DataFrame(rows, columns=["name", "display_name", "role", "staff_key", "grants", "street_wide"])


def generate_demo(
    seed: int = 7,
    *,
    scheme: CodeScheme | None = None,
    until: dt.date = dt.date(2026, 11, 20),
    policy: DeadlinePolicy | None = None,
) -> DemoData:
    """Generate the demo street deterministically (no database, no clock).

    Parameters
    ----------
    seed:
        Seed of the ``numpy`` PCG64 generators; the same seed gives identical frames.
    scheme:
        Code scheme (3 levels, level-1 width 12); defaults to :func:`boundaries.coding.default_scheme`.
    until:
        The "today" of the demo: incidents span the 12 months ending at 18:00 Asia/Shanghai on
        this date, visits the three months before it, household refreshes end there.
    policy:
        Deadline days per disposition and the zone they are counted in, for the workflow the
        incidents are played through; default :class:`~governance.deadlines.DeadlinePolicy`
        (3/30/7 days, Asia/Shanghai). ``gridgov demo`` passes the configured one
        (``DeadlinePolicy.from_settings()``).

    Returns
    -------
    DemoData
        Frames described on :class:`DemoData`; geometries in EPSG:4490, timestamps tz-aware.

    Raises
    ------
    InvalidGridCodeError
        If ``scheme`` cannot carry the street's 12-digit statistical codes in 3 levels.
    """
    scheme = default_scheme() if scheme is None else scheme
    _check_scheme(scheme)
    streams = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(12)]
    now = pd.Timestamp(dt.datetime.combine(until, dt.time(18, 0)), tz=_SHANGHAI)

    plan = _build_grids(streams[0], scheme)
    roster = _Roster(streams[1], until)
    teams = _build_roster(plan.grids, roster)
    workers = sorted({team["micro_worker"] for team in teams.values()})
    laggards = {str(w) for w in streams[1].choice(workers, size=_LAGGARDS, replace=False)}
    households = _build_households(plan, teams, laggards, streams[2], now)
    residents = _build_residents(households, streams[3], until)
    _add_building_heads(households, residents, roster)
    staff = pd.DataFrame(roster.staff)
    staff_assignments = pd.DataFrame(roster.assignments)
    hotspots = _build_hotspots(plan, streams[4])
    staff_names = dict(zip(staff["staff_key"], staff["name"], strict=True))
    incidents, incident_events = _build_incidents(
        households, hotspots, plan, teams, staff_names, streams[5], now, policy or DeadlinePolicy()
    )
    visits = _build_visits(households, teams, laggards, streams[6], now)
    # the practices of issue #17 (new streams: the frames above stay as they were)
    households, residents = _add_verification(households, residents, teams, laggards, streams[8], now)
    households, residents, planted = _plant_problems(households, residents, streams[9], until)
    cameras = _build_cameras(plan, hotspots, households, streams[10])
    incidents["camera_key"] = _camera_incidents(incidents, cameras, streams[10])
    accounts = _build_accounts(staff, staff_assignments, plan.grids)
    practices = plan_practices(
        households=households, grids=plan.grids, accounts=accounts, laggards=laggards,
        worker_of={code: team["micro_worker"] for code, team in teams.items()}, rng=streams[11], now=now,
    )
    logger.info(
        "demo street generated: %d grids, %d households, %d residents, %d incidents",
        len(plan.grids), len(households), len(residents), len(incidents),
    )
    return DemoData(
        grids=_nullable(plan.grids, ("parent_code",)),
        households=_nullable(households.drop(columns="floors"), ("building_no", "house_no", "verified_by")),
        residents=_nullable(residents, ("phone", "verified_by")),
        staff=_nullable(staff, ("phone",)),
        staff_assignments=_nullable(staff_assignments, ("end_date", "building_no")),
        incidents=_nullable(incidents, ("disposition", "assigned_to", "camera_key")),
        incident_events=_nullable(incident_events, ("from_status",)),
        visits=visits,
        hotspots=hotspots.drop(columns="weight"),
        seed=seed,
        until=until,
        valid_from=_valid_from(until),
        accounts=accounts,
        cameras=cameras,
        practices=practices,
        planted=planted,
    )
