"""Files read in chunks load exactly as files read whole: households and incidents.

The CLI reads households and incidents with :func:`etl.readers.iter_households` /
:func:`etl.readers.iter_incidents` (chunks of :data:`gis.io.CHUNK_ROWS` rows); here the chunks
are two rows, so every rule that needs the whole file (duplicate keys across chunks, row numbers
of later chunks) is exercised on a small file, against the whole-file reader on the same file.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from gis.errors import ValidationError

pytestmark = pytest.mark.db

#: Five points inside the demo street (each in a micro-grid).
LONLAT = [(113.2601, 29.4801), (113.2652, 29.4853), (113.2553, 29.4752), (113.2701, 29.4903), (113.2603, 29.4805)]


@pytest.fixture()
def engines(demo_url):
    from store.engine import APP, OWNER, make_engine

    owner, app = make_engine(role=OWNER), make_engine(role=APP)
    yield owner, app
    app.dispose()
    owner.dispose()


def _incident_csv(path, keys):  # noqa: ANN001, ANN202
    rows = [{"id": k, "lon": lon, "lat": lat, "category": "sanitation", "reported_at": f"2026-11-0{i + 1} 08:00",
             "description": f"chunk test {i}"} for i, (k, (lon, lat)) in enumerate(zip(keys, LONLAT))]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _household_csv(path, keys):  # noqa: ANN001, ANN202
    rows = [{"户号": k, "经度": lon, "纬度": lat, "地址": f"测试路{i + 1}号", "人数": i + 1}
            for i, (k, (lon, lat)) in enumerate(zip(keys, LONLAT))]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _stored_incidents(owner):  # noqa: ANN001, ANN202
    with owner.connect() as db:
        return db.execute(text(
            "SELECT incident_key, reported_at, category, description, grid_code, ST_AsText(geom) FROM incidents "
            "WHERE description LIKE 'chunk test %' ORDER BY description")).all()


def test_incidents_in_chunks_load_as_the_whole_file(engines, tmp_path) -> None:
    from etl.readers import iter_incidents, read_incidents
    from services.auth import owner_session
    from services.imports import load_rows

    owner, app = engines
    admin = owner_session(owner, app, "admin")
    path = _incident_csv(tmp_path / "inc.csv", ["CH-1", "CH-2", None, "CH-4", "CH-5"])
    chunked = load_rows(app, admin, "incidents", iter_incidents(path, crs="4490", chunk_rows=2), (), source=path.name)
    assert (chunked.rows, chunked.inserted, chunked.updated, chunked.rejected) == (5, 5, 0, 0)
    stored = _stored_incidents(owner)
    assert [r[0] for r in stored] == ["CH-1", "CH-2", None, "CH-4", "CH-5"]
    assert all(r[4] is not None for r in stored), "a chunk's incidents were not put in their grids"
    with owner.connect() as db:
        events = db.execute(text(
            "SELECT count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id "
            "WHERE i.description LIKE 'chunk test %' AND e.action = 'import'")).scalar_one()
    assert events == 5
    # the same file read whole: every keyed row unchanged; the row without a key is added again
    frame, problems = read_incidents(path, crs="4490")
    whole = load_rows(app, admin, "incidents", frame, problems, source=path.name)
    assert (whole.inserted, whole.updated, whole.unchanged) == (1, 0, 4)
    again = load_rows(app, admin, "incidents", iter_incidents(path, crs="4490", chunk_rows=2), (), source=path.name)
    assert (again.inserted, again.updated, again.unchanged) == (1, 0, 4)


def test_a_key_repeated_in_a_later_chunk_refuses_the_file_and_names_both_rows(engines, tmp_path) -> None:
    from etl.readers import iter_incidents
    from services.auth import owner_session
    from services.imports import load_rows

    owner, app = engines
    admin = owner_session(owner, app, "admin")
    path = _incident_csv(tmp_path / "dup.csv", ["DUP-1", "DUP-2", "DUP-3", "DUP-4", "DUP-1"])
    with owner.connect() as db:
        before = db.execute(text("SELECT count(*), max(id) FROM incidents")).one()
    with pytest.raises(ValidationError) as refused:
        load_rows(app, admin, "incidents", iter_incidents(path, crs="4490", chunk_rows=2), (), source=path.name)
    duplicates = sorted(p.row for p in refused.value.problems if p.rule == "duplicate_key")
    assert duplicates == [0, 4], refused.value.problems
    with owner.connect() as db:
        assert db.execute(text("SELECT count(*), max(id) FROM incidents")).one() == before
    # with --skip-invalid the rows without errors are loaded, the two rows with the repeated key are not
    loaded = load_rows(app, admin, "incidents", iter_incidents(path, crs="4490", chunk_rows=2), (), source=path.name,
                       skip_invalid=True)
    assert (loaded.inserted, loaded.rejected) == (3, 2)
    assert sorted(r[0] for r in _stored_incidents(owner)) == ["DUP-2", "DUP-3", "DUP-4"]


def test_households_in_chunks_load_as_the_whole_file(engines, tmp_path) -> None:
    from etl.readers import iter_households, read_households
    from services.auth import owner_session
    from services.imports import load_rows

    owner, app = engines
    admin = owner_session(owner, app, "admin")
    path = _household_csv(tmp_path / "hh.csv", [f"CHK-{i}" for i in range(5)])
    chunked = load_rows(app, admin, "households", iter_households(path, crs="4490", chunk_rows=2), (),
                        source=path.name)
    assert (chunked.rows, chunked.inserted) == (5, 5)
    with owner.connect() as db:
        stored = db.execute(text(
            "SELECT household_key, members, address, grid_code FROM households WHERE household_key LIKE 'CHK-%' "
            "ORDER BY household_key")).all()
    assert [(r[0], r[1], r[2]) for r in stored] == [(f"CHK-{i}", i + 1, f"测试路{i + 1}号") for i in range(5)]
    frame, problems = read_households(path, crs="4490")
    whole = load_rows(app, admin, "households", frame, problems, source=path.name)
    assert (whole.inserted, whole.updated, whole.unchanged) == (0, 0, 5)
    dup = _household_csv(tmp_path / "hh-dup.csv", ["CHK-0", "CHK-9", "CHK-8", "CHK-7", "CHK-9"])
    with pytest.raises(ValidationError) as refused:
        load_rows(app, admin, "households", iter_households(dup, crs="4490", chunk_rows=2), (), source=dup.name)
    assert sorted(p.row for p in refused.value.problems if p.rule == "duplicate_key") == [1, 4]
