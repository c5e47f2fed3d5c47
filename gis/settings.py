"""One frozen settings object, read from the environment once.

Every variable has the ``GRIDGOV_`` prefix, except ``DATABASE_URL``. Nothing is read at
import time: call :func:`get_settings` (cached) or :meth:`Settings.from_env`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from gis.errors import ConfigurationError

__all__ = ["Settings", "get_settings", "parse_region", "PROJECT_ROOT", "CHINA_BOUNDS"]

#: The checkout this package was installed from (editable install): holds var/ and assets.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

_BASEMAPS = ("none", "xyz", "tianditu", "amap")

#: (lon_min, lat_min, lon_max, lat_max) of China incl. the South China Sea islands, degrees:
#: the default of ``GRIDGOV_REGION``.
CHINA_BOUNDS: tuple[float, float, float, float] = (73.4, 3.3, 135.2, 53.6)


def _parse_region(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(v == v and abs(v) != float("inf") for v in values):
        raise ConfigurationError(
            f"GRIDGOV_REGION was {text!r} but is expected to be lon_min,lat_min,lon_max,lat_max in degrees "
            "(e.g. '112.9,29.2,113.5,29.7')"
        )
    lon_min, lat_min, lon_max, lat_max = values
    if not (-180 <= lon_min < lon_max <= 180 and -90 <= lat_min < lat_max <= 90):
        raise ConfigurationError(
            f"GRIDGOV_REGION was {text!r}: expected lon_min < lon_max within ±180 and lat_min < lat_max within ±90"
        )
    return values  # type: ignore[return-value]


def parse_region(text: str) -> tuple[float, float, float, float]:
    """``lon_min,lat_min,lon_max,lat_max`` (degrees) as a tuple, or :class:`ConfigurationError`."""
    return _parse_region(text)


def _parse_deadline_days(text: str) -> dict[str, int]:
    days: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            days[key.strip()] = int(value)
        except ValueError:
            raise ConfigurationError(
                f"GRIDGOV_DEADLINE_DAYS part {part!r} is expected to look like 'solve_now=3'"
            ) from None
    return days


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _parse_widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigurationError(
            f"GRIDGOV_CODE_WIDTHS was {text!r} but is expected to be comma-separated "
            "positive integers such as '12,3,3'"
        ) from None
    if not 1 <= len(widths) <= 5 or any(w <= 0 for w in widths):
        raise ConfigurationError(
            f"GRIDGOV_CODE_WIDTHS was {text!r} but is expected to list 1 to 5 positive widths"
        )
    return widths


def _public_url(text: str | None) -> str | None:
    value = (text or "").strip()
    if not value:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"GRIDGOV_PUBLIC_URL was {value!r} but is expected to be an http(s) address such as "
            "'https://grid.example.gov.cn' (no query)"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    Attributes
    ----------
    database_url:
        SQLAlchemy URL of an existing PostGIS database (``DATABASE_URL``). ``None`` means
        use the project-local cluster under ``data_dir/pg``.
    data_dir:
        Directory for the local cluster, artifacts and logs (``GRIDGOV_DATA_DIR``, default ``var/``).
    pg_port:
        Preferred TCP port of the local cluster (``GRIDGOV_PG_PORT``, default 55432; if it is
        taken when the cluster is first created the next free port is used and remembered).
    app_port:
        Port the Streamlit app listens on (``GRIDGOV_APP_PORT``, default 8501).
    code_widths:
        Digits per level of the grid code scheme (``GRIDGOV_CODE_WIDTHS``, default ``12,3,3``).
    basemap:
        ``none`` | ``xyz`` | ``tianditu`` | ``amap`` (``GRIDGOV_BASEMAP``).
    basemap_url:
        XYZ tile URL template for ``xyz`` (or to override the Amap/Tianditu URL).
    tianditu_key:
        Tianditu token (``GRIDGOV_TIANDITU_KEY``).
    language:
        Default UI language, ``zh`` or ``en`` (``GRIDGOV_LANG``).
    timezone:
        Zone in which months, deadlines and the 25th are counted (``GRIDGOV_TIMEZONE``).
    app_address:
        Address the app listens on (``GRIDGOV_APP_ADDRESS``, default ``127.0.0.1``; ``0.0.0.0``
        opens it to the network).
    region:
        (lon_min, lat_min, lon_max, lat_max) in degrees that imported coordinates are checked
        against (``GRIDGOV_REGION``, default China's bounds, :data:`gis.crs.CHINA_BOUNDS`).
    deadline_days:
        Disposition → days to the deadline overriding the defaults (``GRIDGOV_DEADLINE_DAYS``,
        ``solve_now=3,research_assign=30,explain_respond=7``).
    actor:
        Name recorded as the actor of CLI writes when no account is logged in (``GRIDGOV_ACTOR``;
        default: the operating-system user).
    log_level:
        Logging level of the entry points (``GRIDGOV_LOG_LEVEL``, default ``WARNING``).
    app_database_url:
        SQLAlchemy URL of the application role on an existing server (``GRIDGOV_APP_DATABASE_URL``):
        the role the app, the CLI and the API connect as (owns nothing, no BYPASSRLS). With the local
        cluster it is generated.
    session_idle_hours:
        A login session ends after this many hours without a request (``GRIDGOV_SESSION_IDLE_HOURS``,
        default 8).
    login_attempts, lockout_minutes:
        Wrong passwords in a row that lock an account, and for how long (``GRIDGOV_LOGIN_ATTEMPTS``,
        default 5; ``GRIDGOV_LOCKOUT_MINUTES``, default 15).
    oidc_issuer, oidc_client_id, oidc_client_secret, oidc_account_claim, oidc_redirect_uri, oidc_cookie_secret:
        Single sign-on through an OpenID Connect provider (``GRIDGOV_OIDC_ISSUER`` … ; login switches
        to it when the issuer is set). The claim (default ``preferred_username``) names the GridGov
        account; role and grids always come from GridGov.
    api_rate_per_minute, api_burst:
        Requests an API token may make per minute on average (``GRIDGOV_API_RATE``, default 600;
        a token may have its own, ``gridgov token create --rate``) and in a burst
        (``GRIDGOV_API_BURST``, default 120); beyond them the API answers 429 with ``Retry-After``.
    public_rate_per_minute, public_burst:
        Code look-ups (evaluation codes, incident references) and page loads one client address may
        make on the public, login-free pages (``/public/``) per minute on average
        (``GRIDGOV_PUBLIC_RATE``, default 2) and in a burst (``GRIDGOV_PUBLIC_BURST``, default 12); a
        code that is not found costs three; beyond them the pages answer 429 in words.
    public_url:
        The URL clients reach the server at (``GRIDGOV_PUBLIC_URL``, e.g.
        ``https://gridgov.example.gov.cn``): the OGC API builds its links from it. Unset: from each
        request's ``Host``.
    oidc_api_clients:
        Client ids (besides ``GRIDGOV_OIDC_CLIENT_ID``) whose OpenID Connect access tokens the API
        accepts (``GRIDGOV_OIDC_API_CLIENTS``, comma-separated).
    oidc_introspection_url:
        The provider's RFC 7662 token introspection endpoint, for opaque access tokens, when its
        discovery document does not advertise ``introspection_endpoint``
        (``GRIDGOV_OIDC_INTROSPECTION_URL``; django-oauth-toolkit, e.g., serves ``…/o/introspect/``
        without listing it).
    earliest_date:
        No recorded date (incident report, visit, roster start/end) may lie before this day
        (``GRIDGOV_EARLIEST_DATE``, default 2000-01-01): older dates are typing mistakes.
    clock_skew_s:
        Seconds a recorded moment may lie in the future (clocks of phones and servers differ;
        ``GRIDGOV_CLOCK_SKEW_S``, default 300).
    visit_max_distance_m:
        A visit recorded with a location must be within this many metres of the household
        (``GRIDGOV_VISIT_MAX_DISTANCE_M``, default 500).
    max_file_mb:
        Largest input file read, in MB (``GRIDGOV_MAX_FILE_MB``, default 512); checked before reading.
    max_features:
        Most rows/features one input file may hold (``GRIDGOV_MAX_FEATURES``, default 2,000,000).
    max_vertices:
        Most vertices one polygon may have (``GRIDGOV_MAX_VERTICES``, default 200,000); checked right
        after reading, before any validation or repair.
    tile_threshold:
        Above this many grids the electronic map, the incident map and the editor's overview draw
        the grids from vector tiles (``/tiles/``) instead of sending every grid's GeoJSON
        (``GRIDGOV_TILE_THRESHOLD``, default 2,000; 0 always uses tiles).
    tile_cache_mb:
        Memory the server's vector-tile cache may use, in MB (``GRIDGOV_TILE_CACHE_MB``, default 256).
    """

    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    pg_port: int = 55432
    app_port: int = 8501
    code_widths: tuple[int, ...] = (12, 3, 3)
    basemap: str = "none"
    basemap_url: str | None = None
    tianditu_key: str | None = None
    language: str = "zh"
    timezone: str = "Asia/Shanghai"
    app_address: str = "127.0.0.1"
    region: tuple[float, float, float, float] = CHINA_BOUNDS
    deadline_days: Mapping[str, int] = field(default_factory=dict)
    actor: str | None = None
    log_level: str = "WARNING"
    app_database_url: str | None = None
    session_idle_hours: float = 8.0
    login_attempts: int = 5
    lockout_minutes: int = 15
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_account_claim: str = "preferred_username"
    oidc_redirect_uri: str | None = None
    oidc_cookie_secret: str | None = field(default=None, repr=False)
    api_rate_per_minute: int = 600
    api_burst: int = 120
    public_rate_per_minute: int = 2
    public_burst: int = 12
    public_url: str | None = None
    oidc_api_clients: tuple[str, ...] = ()
    oidc_introspection_url: str | None = None

    @property
    def oidc_enabled(self) -> bool:
        """Whether login goes through the OpenID Connect provider."""
        return bool(self.oidc_issuer)
    earliest_date: dt.date = dt.date(2000, 1, 1)
    clock_skew_s: int = 300
    visit_max_distance_m: float = 500.0
    max_file_mb: int = 512
    max_features: int = 2_000_000
    max_vertices: int = 200_000
    tile_threshold: int = 2000
    tile_cache_mb: int = 256

    @property
    def public_base_url(self) -> str:
        """``public_url`` without a trailing slash, else ``http://<app_address>:<app_port>``
        (``localhost`` when the app listens on every address)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.app_address in ("0.0.0.0", "::", "") else self.app_address
        return f"http://{host}:{self.app_port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ

        def _int(name: str, default: int) -> int:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                return int(raw)
            except ValueError:
                raise ConfigurationError(f"{name} was {raw!r} but is expected to be an integer") from None

        def _positive_float(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise ConfigurationError(f"{name} was {raw!r} but is expected to be a positive number")
            return value

        basemap = env.get("GRIDGOV_BASEMAP", "none") or "none"
        if basemap not in _BASEMAPS:
            raise ConfigurationError(f"GRIDGOV_BASEMAP was {basemap!r} but is expected to be in {list(_BASEMAPS)}")
        language = env.get("GRIDGOV_LANG", "zh") or "zh"
        if language not in ("zh", "en"):
            raise ConfigurationError(f"GRIDGOV_LANG was {language!r} but is expected to be 'zh' or 'en'")
        data_dir = env.get("GRIDGOV_DATA_DIR")
        log_level = (env.get("GRIDGOV_LOG_LEVEL") or "WARNING").upper()
        if log_level not in _LOG_LEVELS:
            raise ConfigurationError(f"GRIDGOV_LOG_LEVEL was {log_level!r} but is expected to be in {list(_LOG_LEVELS)}")
        region_text = env.get("GRIDGOV_REGION")

        def _positive(name: str, default: int) -> int:
            value = _int(name, default)
            if value <= 0:
                raise ConfigurationError(f"{name} was {value} but is expected to be a positive integer")
            return value

        def _distance(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not (value > 0 and value != float("inf")):
                raise ConfigurationError(f"{name} was {raw!r} but is expected to be a positive number of metres")
            return value

        earliest_text = (env.get("GRIDGOV_EARLIEST_DATE") or "").strip()
        try:
            earliest = dt.date.fromisoformat(earliest_text) if earliest_text else cls.earliest_date
        except ValueError:
            raise ConfigurationError(
                f"GRIDGOV_EARLIEST_DATE was {earliest_text!r} but is expected to be a date YYYY-MM-DD (e.g. 2000-01-01)"
            ) from None
        tile_threshold = _int("GRIDGOV_TILE_THRESHOLD", 2000)
        if tile_threshold < 0:
            raise ConfigurationError(
                f"GRIDGOV_TILE_THRESHOLD was {tile_threshold} but is expected to be 0 or more grids")
        skew = _int("GRIDGOV_CLOCK_SKEW_S", 300)
        if skew < 0:
            raise ConfigurationError(f"GRIDGOV_CLOCK_SKEW_S was {skew} but is expected to be 0 or more seconds")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(data_dir).resolve() if data_dir else PROJECT_ROOT / "var",
            pg_port=_int("GRIDGOV_PG_PORT", 55432),
            app_port=_int("GRIDGOV_APP_PORT", 8501),
            code_widths=_parse_widths(env.get("GRIDGOV_CODE_WIDTHS", "12,3,3") or "12,3,3"),
            basemap=basemap,
            basemap_url=env.get("GRIDGOV_BASEMAP_URL") or None,
            tianditu_key=env.get("GRIDGOV_TIANDITU_KEY") or None,
            language=language,
            timezone=env.get("GRIDGOV_TIMEZONE", "Asia/Shanghai") or "Asia/Shanghai",
            app_address=env.get("GRIDGOV_APP_ADDRESS") or "127.0.0.1",
            region=_parse_region(region_text) if region_text else cls.region,
            deadline_days=_parse_deadline_days(env.get("GRIDGOV_DEADLINE_DAYS") or ""),
            actor=(env.get("GRIDGOV_ACTOR") or "").strip() or None,
            log_level=log_level,
            app_database_url=env.get("GRIDGOV_APP_DATABASE_URL") or None,
            session_idle_hours=_positive_float("GRIDGOV_SESSION_IDLE_HOURS", 8.0),
            login_attempts=_int("GRIDGOV_LOGIN_ATTEMPTS", 5),
            lockout_minutes=_int("GRIDGOV_LOCKOUT_MINUTES", 15),
            oidc_issuer=(env.get("GRIDGOV_OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=env.get("GRIDGOV_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("GRIDGOV_OIDC_CLIENT_SECRET") or None,
            oidc_account_claim=env.get("GRIDGOV_OIDC_ACCOUNT_CLAIM") or "preferred_username",
            oidc_redirect_uri=env.get("GRIDGOV_OIDC_REDIRECT_URI") or None,
            oidc_cookie_secret=env.get("GRIDGOV_OIDC_COOKIE_SECRET") or None,
            api_rate_per_minute=_positive("GRIDGOV_API_RATE", 600),
            api_burst=_positive("GRIDGOV_API_BURST", 120),
            public_rate_per_minute=_positive("GRIDGOV_PUBLIC_RATE", 2),
            public_burst=_positive("GRIDGOV_PUBLIC_BURST", 12),
            public_url=_public_url(env.get("GRIDGOV_PUBLIC_URL")),
            oidc_api_clients=tuple(c.strip() for c in (env.get("GRIDGOV_OIDC_API_CLIENTS") or "").split(",") if c.strip()),
            oidc_introspection_url=env.get("GRIDGOV_OIDC_INTROSPECTION_URL") or None,
            earliest_date=earliest,
            clock_skew_s=skew,
            visit_max_distance_m=_distance("GRIDGOV_VISIT_MAX_DISTANCE_M", 500.0),
            max_file_mb=_positive("GRIDGOV_MAX_FILE_MB", 512),
            max_features=_positive("GRIDGOV_MAX_FEATURES", 2_000_000),
            max_vertices=_positive("GRIDGOV_MAX_VERTICES", 200_000),
            tile_threshold=tile_threshold,
            tile_cache_mb=_positive("GRIDGOV_TILE_CACHE_MB", 256),
        )

    @property
    def artifacts_dir(self) -> Path:
        """Where tests and reports write screenshots and files (``data_dir/artifacts``)."""
        return self.data_dir / "artifacts"

    @property
    def assets_dir(self) -> Path:
        """Locally installed front-end assets (Leaflet and plugins), served by the app."""
        return PROJECT_ROOT / "static" / "vendor"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first call."""
    return Settings.from_env()
