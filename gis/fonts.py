"""The one CJK font loader: Chinese text in PNG and PDF output (maps, contact cards, reports).

The font is Noto Sans CJK from Debian's ``fonts-noto-cjk`` (installed by ``make run``). A missing
font is an error, never silently replaced by empty boxes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from gis.errors import ConfigurationError

__all__ = ["CJK_FONT_PATH", "cjk_font", "cjk_font_path"]

#: Debian package fonts-noto-cjk.
CJK_FONT_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def cjk_font_path(path: Path | str = CJK_FONT_PATH) -> Path:
    """``path`` if the font file exists, else :class:`ConfigurationError` saying what to install."""
    font_path = Path(path)
    if not font_path.is_file():
        raise ConfigurationError(
            f"the CJK font {font_path} is missing; install it with `apt-get install fonts-noto-cjk` "
            "(Chinese text would otherwise print as empty boxes)"
        )
    return font_path


@lru_cache(maxsize=4)
def cjk_font(path: Path | str = CJK_FONT_PATH) -> Any:
    """matplotlib ``FontProperties`` for the CJK font at ``path`` (registered with matplotlib once)."""
    from matplotlib import font_manager

    font_path = cjk_font_path(path)
    font_manager.fontManager.addfont(str(font_path))
    return font_manager.FontProperties(fname=str(font_path))
