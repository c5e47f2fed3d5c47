"""Headless QGIS (Debian's python3-qgis, run by /usr/bin/python3) as a client of GridGov, for tests/db/test_api_qgis.py.

Loads the OGC API layer ``grids-level-3`` (QGIS 3.22 has no header parameter in the layer URI, so
the bearer token is added to every request by ``QgsNetworkAccessManager.setRequestPreprocessor``,
as a script or plugin would) and the PostGIS layer ``gridgov_gis.grids`` connected as a database
login (``gridgov token create --database``); prints one JSON object: feature counts and codes.
Environment: OGC_URL, OGC_TOKEN, PG_HOST, PG_PORT, PG_DB, PG_USER, PG_PASSWORD.
"""

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsDataSourceUri, QgsNetworkAccessManager, QgsVectorLayer  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
result = {}

token = os.environ["OGC_TOKEN"]


def add_bearer(request):  # noqa: ANN001, ANN201
    request.setRawHeader(b"Authorization", f"Bearer {token}".encode())


QgsNetworkAccessManager.setRequestPreprocessor(add_bearer)
uri = QgsDataSourceUri()
uri.setParam("url", os.environ["OGC_URL"])
uri.setParam("typename", "grids-level-3")
uri.setParam("restrictToRequestBBOX", "0")
layer = QgsVectorLayer(uri.uri(False), "grids", "OAPIF")
result["oapif_valid"] = layer.isValid()
if layer.isValid():
    result["oapif_codes"] = sorted(f["code"] for f in layer.getFeatures())
    result["oapif_count"] = layer.featureCount()

pg = QgsDataSourceUri()
pg.setConnection(os.environ["PG_HOST"], os.environ["PG_PORT"], os.environ["PG_DB"], os.environ["PG_USER"],
                 os.environ["PG_PASSWORD"])
pg.setDataSource("gridgov_gis", "grids", "geom", "level = 3", "code")
pg.setSrid("4490")
layer = QgsVectorLayer(pg.uri(False), "pg", "postgres")
result["pg_valid"] = layer.isValid()
if layer.isValid():
    result["pg_codes"] = sorted(f["code"] for f in layer.getFeatures())
    result["pg_count"] = layer.featureCount()
png = os.environ.get("QGIS_RENDER_PNG")
if png and layer.isValid():  # what QGIS draws from the PostGIS layer, rendered headless
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(900, 700))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    result["png_saved"] = job.renderedImage().save(png, "PNG")
print("RESULT " + json.dumps(result))
app.exitQgis()
