"""vector tiles: GCJ-02 shift of geometries in SQL

Revision ID: 0010
Revises: (see down_revision)
Create Date: 2026-12-01

The tile server (:mod:`store.tiles`) makes Mapbox Vector Tiles in PostGIS. Over an Amap basemap
(GCJ-02 datum) everything drawn must be shifted exactly as :func:`gis.crs.wgs84_to_gcj02` shifts
it for the GeoJSON maps; PROJ has no GCJ-02, so these functions carry the same formula:

* ``gridgov.gcj02_offset(lon, lat)``: (dlon, dlat) degrees at a WGS 84 / CGCS2000 position;
* ``gridgov.to_gcj02(geom)``: a point or (multi)polygon with every vertex shifted (positions
  outside China's extent unchanged, as in Python).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0008_session_end"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION gridgov.gcj02_offset(lon double precision, lat double precision,
                                             OUT dlon double precision, OUT dlat double precision)
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
        DECLARE
            a CONSTANT double precision := 6378137.0;
            ee CONSTANT double precision := 0.00669342162296594323;
            x double precision := lon - 105.0;
            y double precision := lat - 35.0;
            common double precision;
            rad_lat double precision;
            magic double precision;
            sqrt_magic double precision;
        BEGIN
            IF lon < 72.004 OR lon > 137.8347 OR lat < 0.8293 OR lat > 55.8271 THEN
                dlon := 0; dlat := 0; RETURN;
            END IF;
            common := (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0;
            dlat := -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
                    + common
                    + (20.0 * sin(y * pi()) + 40.0 * sin(y / 3.0 * pi())) * 2.0 / 3.0
                    + (160.0 * sin(y / 12.0 * pi()) + 320.0 * sin(y * pi() / 30.0)) * 2.0 / 3.0;
            dlon := 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
                    + common
                    + (20.0 * sin(x * pi()) + 40.0 * sin(x / 3.0 * pi())) * 2.0 / 3.0
                    + (150.0 * sin(x / 12.0 * pi()) + 300.0 * sin(x / 30.0 * pi())) * 2.0 / 3.0;
            rad_lat := radians(lat);
            magic := 1.0 - ee * sin(rad_lat) ^ 2;
            sqrt_magic := sqrt(magic);
            dlat := (dlat * 180.0) / ((a * (1.0 - ee)) / (magic * sqrt_magic) * pi());
            dlon := (dlon * 180.0) / (a / sqrt_magic * cos(rad_lat) * pi());
        END $$;

        CREATE FUNCTION gridgov.to_gcj02(g public.geometry) RETURNS public.geometry
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, public AS $$
            WITH points AS (
                SELECT d.path, ST_X(d.geom) AS x, ST_Y(d.geom) AS y
                FROM ST_DumpPoints(CASE WHEN GeometryType(g) = 'POINT' THEN g ELSE ST_Multi(g) END) AS d
            ), shifted AS (
                SELECT p.path, ST_MakePoint(p.x + o.dlon, p.y + o.dlat) AS point
                FROM points p CROSS JOIN LATERAL gridgov.gcj02_offset(p.x, p.y) AS o
            ), rings AS (
                SELECT path[1] AS part, path[2] AS ring, ST_MakeLine(point ORDER BY path[3]) AS line
                FROM shifted WHERE cardinality(path) = 3 GROUP BY 1, 2
            ), parts AS (
                SELECT part, ST_MakePolygon((array_agg(line ORDER BY ring))[1],
                                            (array_agg(line ORDER BY ring))[2:]) AS polygon
                FROM rings GROUP BY part
            )
            SELECT ST_SetSRID(
                CASE WHEN GeometryType(g) = 'POINT' THEN (SELECT point FROM shifted)
                     ELSE (SELECT ST_Multi(ST_Collect(polygon ORDER BY part)) FROM parts) END,
                ST_SRID(g))
        $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gridgov.to_gcj02(public.geometry); "
               "DROP FUNCTION IF EXISTS gridgov.gcj02_offset(double precision, double precision);")
