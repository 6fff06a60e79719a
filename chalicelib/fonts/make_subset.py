"""Regenerates the documents' font, `wqy-zenhei-subset.ttf`, from WenQuanYi Zen Hei (文泉驿正黑,
Debian's fonts-wqy-zenhei: /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc).

    python -m chalicelib.fonts.make_subset [path/to/wqy-zenhei.ttc]

The subset holds ASCII, the CJK punctuation and full-width forms, every character of GB 2312
(its 6,763 汉字, the common ones any name or address is written with) and every character of
the published catalog (chalicelib/catalog/data/*.json), outlines only (the embedded bitmaps are
dropped). A PDF embeds the subset of it that the document uses (fpdf2), so a fresh clone or a
Lambda function needs no font of the system. Run again after the catalog gains characters
outside GB 2312; the licence is beside it (COPYING: GPL v2 with the font embedding exception)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
TARGET = HERE / "wqy-zenhei-subset.ttf"


def gb2312() -> set[str]:
    """Every character of GB 2312: rows 0xA1-0xF7, cells 0xA1-0xFE, those that decode."""
    found = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.add(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return found


def catalog_text() -> set[str]:
    found = set()
    for path in sorted((HERE.parent / "catalog" / "data").glob("*.json")):
        found |= set(json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False))
    return found


def characters() -> str:
    wanted = {chr(c) for c in range(0x20, 0x7F)} | gb2312() | catalog_text()
    wanted |= {chr(c) for c in range(0x3000, 0x3040)} | {chr(c) for c in range(0xFF01, 0xFF5F)}
    wanted |= set("—…·×÷±≤≥℃№¥●○■□◆△▲→←↑↓“”‘’")
    return "".join(sorted(c for c in wanted if c.isprintable() or c == "\u3000"))


def main(source: Path = SOURCE) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=0)
    options = subset.Options()
    options.drop_tables += ["EBDT", "EBLC", "EBSC", "bdat", "bloc"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    font.save(str(TARGET))
    print(f"{TARGET}: {TARGET.stat().st_size} bytes, {len(font.getBestCmap())} characters")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
