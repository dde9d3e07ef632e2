"""Copies the front-end assets that `npm ci` installed into the ignored vendor/ folder.

    python -m convene_web.assets          (run by `make run`, `make test` and the Dockerfile)

From services/web/node_modules: GOV.UK Frontend's CSS (less its GDS Transport @font-face
rules), JS and images (not its fonts: Convene is not a GOV.UK service and uses a system font
stack, see static/convene.css) and htmx.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from convene_web.config import SERVICE_DIR

NODE_MODULES = SERVICE_DIR / "node_modules"


# GOV.UK Frontend's @font-face rules name GDS Transport files we never copy. Should any
# element fall back to that family (convene.css overrides them all, but a browser may lay out
# a page before it applies), the browser would ask for four missing fonts: the rules go.
_FONT_FACE = re.compile(r"(?:/\*![^*]*\*+(?:[^/*][^*]*\*+)*/)?@font-face\{[^}]*\}")


def without_gds_transport(css: str) -> str:
    stripped = _FONT_FACE.sub("", css)
    if "/assets/fonts/" in stripped:
        raise ValueError("GOV.UK Frontend's CSS still names /assets/fonts/: its shape changed")
    return stripped


def copy_assets(*, node_modules: Path, vendor: Path) -> list[Path]:
    govuk = node_modules / "govuk-frontend" / "dist" / "govuk"
    wanted = {
        govuk / "govuk-frontend.min.js": vendor / "govuk" / "govuk-frontend.min.js",
        govuk / "assets" / "manifest.json": vendor / "assets" / "manifest.json",
        node_modules / "htmx.org" / "dist" / "htmx.min.js": vendor / "htmx.min.js",
    }
    missing = [source for source in wanted if not source.exists()]
    if missing:
        raise FileNotFoundError(
            f"run `npm ci` in {SERVICE_DIR} first; missing: {', '.join(map(str, missing))}"
        )
    stylesheet = vendor / "govuk" / "govuk-frontend.min.css"
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    stylesheet.write_text(
        without_gds_transport((govuk / "govuk-frontend.min.css").read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    copied = [stylesheet]
    for source, target in wanted.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    shutil.copytree(govuk / "assets" / "images", vendor / "assets" / "images", dirs_exist_ok=True)
    copied.append(vendor / "assets" / "images")
    return copied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES)
    parser.add_argument("--vendor", type=Path, default=SERVICE_DIR / "vendor")
    args = parser.parse_args()
    copy_assets(node_modules=args.node_modules, vendor=args.vendor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
