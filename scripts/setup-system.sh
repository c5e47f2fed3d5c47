#!/usr/bin/env bash
# Install the Debian packages GridGov needs, only those that are missing.
#   scripts/setup-system.sh          server packages (PostgreSQL + PostGIS, CJK fonts, Node.js/npm)
#   scripts/setup-system.sh --test   also Chromium for the browser tests, GDAL and QGIS for the API tests
# With DATABASE_URL set, PostgreSQL/PostGIS are not installed locally.
set -euo pipefail

want=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [ -z "${DATABASE_URL:-}" ]; then
  have postgresql || want+=(postgresql)
fi
have fonts-noto-cjk || want+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
command -v runuser >/dev/null 2>&1 || want+=(util-linux)
if [ "${1:-}" = "--test" ]; then
  have chromium || want+=(chromium)
  have gdal-bin || want+=(gdal-bin)            # ogrinfo/ogr2ogr: the OGC API's real client in tests
  have python3-qgis || want+=(python3-qgis)    # headless QGIS: OGC API and PostGIS layers in tests
fi

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages: $*; run 'sudo apt-get install $*' (or run make as root)" >&2
    exit 2
  fi
  if [ -z "${GRIDGOV_APT_UPDATED:-}" ]; then
    apt-get update -q
    export GRIDGOV_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

if [ ${#want[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${want[*]}"
  apt_install "${want[@]}"
fi

# PostGIS for the installed PostgreSQL major version.
if [ -z "${DATABASE_URL:-}" ]; then
  major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -z "$major" ]; then
    echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
    exit 2
  fi
  have "postgresql-${major}-postgis-3" || { echo "==> installing PostGIS for PostgreSQL ${major}"; apt_install "postgresql-${major}-postgis-3"; }
  # Debian starts a system cluster on 5432 on install; GridGov uses its own in var/pg and leaves that one alone.
fi
exit 0
