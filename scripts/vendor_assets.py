#!/usr/bin/env python
"""Copy the front-end files the maps need from node_modules/ (after `npm ci`) to static/vendor/.

The list of files is :data:`gis.webmap.VENDOR_ASSETS` / :data:`gis.webmap.VENDOR_DIRS` (one
place); the app serves static/vendor at /app/static/vendor (Streamlit static serving), so no
page requests an external host. Exit code 2 with a one-line message when a source is missing.

Usage: python scripts/vendor_assets.py [--node-modules DIR] [--dest DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from gis.webmap import VENDOR_ASSETS, VENDOR_DIRS, VendorAsset  # noqa: E402


def _source(asset: VendorAsset, node_modules: Path) -> Path:
    if asset.origin == "npm":
        return node_modules / asset.source
    if asset.origin == "folium":
        import folium

        return Path(folium.__file__).resolve().parent / asset.source
    raise ValueError(f"asset origin was {asset.origin!r} but is expected to be 'npm' or 'folium'")


def vendor(node_modules: Path, dest: Path) -> list[Path]:
    """Copy every asset; return the files written. Raises FileNotFoundError naming what is missing."""
    missing = [
        str(_source(a, node_modules)) for a in [*VENDOR_ASSETS.values(), *VENDOR_DIRS] if not _source(a, node_modules).exists()
    ]
    if missing:
        raise FileNotFoundError(f"missing front-end files (run `npm ci` first): {missing}")
    written: list[Path] = []
    for asset in VENDOR_ASSETS.values():
        target = dest / asset.target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_source(asset, node_modules), target)
        written.append(target)
    for asset in VENDOR_DIRS:
        target = dest / asset.target
        shutil.copytree(_source(asset, node_modules), target, dirs_exist_ok=True)
        written.extend(p for p in target.rglob("*") if p.is_file())
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=PROJECT_ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=PROJECT_ROOT / "static" / "vendor")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.node_modules, args.dest)
    except FileNotFoundError as exc:
        print(f"vendor_assets: {exc}", file=sys.stderr)
        return 2
    print(f"vendor_assets: {len(written)} files in {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
