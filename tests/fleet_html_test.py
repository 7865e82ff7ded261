"""The HTML fleet report: one self-contained file whose charts really render (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from archlint.fleet import html as fleet_html
from tests.conftest import FIXTURES, CliResult
from tests.fleet_png import Image, decode

REPORTS = FIXTURES / "fleet" / "reports"
ORDER = ["shop-api", "search", "billing", "data-jobs"]


def render(cli: Callable[..., CliResult], tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "fleet.html"
    reports = [str(REPORTS / f"{n}.json") for n in ORDER]
    r = cli(["report", "merge", *reports, "--format", "html", "-o", str(out), *extra])
    assert r.rc == 0, r.err
    return out


def test_self_contained_no_network(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    page = render(cli, tmp_path).read_text()
    assert page.startswith("<!doctype html>")
    # Nothing to fetch: no URLs, no scripts, no linked stylesheets, fonts or images; and a CSP
    # that would block them anyway.
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", page, re.IGNORECASE)
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"" in page
    assert page.count("<svg") == 5  # donut, per-repository bars, dependencies, base images, images


def test_charts_carry_the_numbers(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    page = render(cli, tmp_path).read_text()
    assert 'aria-label="arm64: 1, multi-arch: 1, amd64: 3, unknown: 1"' in page
    # Per-repository bars: the share, and one coloured segment per recommendation present.
    assert re.search(r">search</text>.*?>50%</text>", page)
    assert 'aria-label="intel-openmp: 2, mkl: 1, tbb: 0"' in page
    assert ">acme/legacy-base:2</text>" in page  # docker.io/ dropped from the label, kept in the tooltip
    assert "<title>docker.io/acme/legacy-base:2: blocks 1 workload(s)" in page


def test_names_and_reasons_are_escaped(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    page = render(cli, tmp_path, "--name", "<script>alert(1)</script>", "--title", "A & B <fleet>").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>A &amp; B &lt;fleet&gt;</title>" in page


def test_empty_fleet_still_renders(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    report = tmp_path / "r.json"
    (tmp_path / "repo").mkdir()
    cli(["check", str(tmp_path / "repo"), "--offline", "--format", "json", "-o", str(report)])
    assert cli(["report", "merge", str(report), "--format", "html", "-o", str(out)]).rc == 0
    page = out.read_text()
    assert "No dependency lacks an arm64 build." in page and ">n/a<" in page


# --- the screenshot -------------------------------------------------------------------------------

WIDTH, HEIGHT = 1200, 900
PHONE_WIDTH, PHONE_HEIGHT = 390, 2400  # an iPhone 12-15 viewport, tall enough for the whole page


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def _near(c: tuple[int, int, int], want: tuple[int, int, int], tol: int = 8) -> bool:
    return abs(c[0] - want[0]) <= tol and abs(c[1] - want[1]) <= tol and abs(c[2] - want[2]) <= tol


def _boxes(img: Image, colors: dict[str, str]) -> dict[str, tuple[int, int, int, int, int]]:
    """Per colour: (count, x0, y0, x1, y1) of its pixels, sampled every 2 pixels in one pass."""
    wants = {name: _rgb(c) for name, c in colors.items()}
    acc = {name: [0, img.width, img.height, -1, -1] for name in colors}
    for y in range(0, img.height, 2):
        for x in range(0, img.width, 2):
            px = img.pixel(x, y)
            if px[0] == px[1] == px[2]:
                continue  # white, black and the page's greys are none of the chart colours
            for name, want in wants.items():
                if _near(px, want):
                    b = acc[name]
                    b[0] += 1
                    b[1], b[2], b[3], b[4] = min(b[1], x), min(b[2], y), max(b[3], x), max(b[4], y)
                    break
    return {name: (b[0], b[1], b[2], b[3], b[4]) for name, b in acc.items()}


def _shoot(tmp: Path, width: int, height: int) -> Image:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    from archlint.fleet import aggregate, inputs

    page = tmp / "fleet.html"
    fleet = aggregate.merge(inputs.load_all([str(REPORTS / f"{n}.json") for n in ORDER]), "Fleet")
    page.write_text(fleet_html.render(fleet), encoding="utf-8")
    png = tmp / "fleet.png"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={tmp / 'profile'}", f"--screenshot={png}", f"--window-size={width},{height}",
           "--force-device-scale-factor=1", page.as_uri()]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert png.is_file(), proc.stderr.decode(errors="replace")[-2000:]
    return decode(png.read_bytes())


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return _shoot(tmp_path_factory.mktemp("shot"), WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return _shoot(tmp_path_factory.mktemp("phone"), PHONE_WIDTH, PHONE_HEIGHT)


def test_screenshot_shows_every_chart(screenshot: Image) -> None:
    img = screenshot
    assert (img.width, img.height) == (WIDTH, HEIGHT)
    half = WIDTH // 2
    left = Image(half, HEIGHT, img.channels, [row[: half * img.channels] for row in img.rows])
    right = Image(WIDTH - half, HEIGHT, img.channels, [row[half * img.channels :] for row in img.rows])
    palette = {**fleet_html.COLORS, "dependency": fleet_html.DEPENDENCY_COLOR, "base": fleet_html.BASE_IMAGE_COLOR}
    lb, rb = _boxes(left, palette), _boxes(right, palette)
    # The donut (left column): every recommendation's segment, amd64 (3 of 6) the largest.
    for rec in ("arm64", "multi-arch", "amd64", "unknown"):
        assert lb[rec][0] > 200, rec
    assert lb["amd64"][0] > 2 * lb["arm64"][0]
    # The per-repository bars (right column) use the same colours.
    for rec in ("arm64", "multi-arch", "amd64", "unknown"):
        assert rb[rec][0] > 100, rec
    # Blocker charts sit below both: dependencies on the left, base images on the right.
    donut_bottom = lb["amd64"][4]
    assert lb["dependency"][0] > 200 and lb["dependency"][2] > donut_bottom and rb["dependency"][0] == 0
    assert rb["base"][0] > 200 and rb["base"][2] > rb["amd64"][4] and lb["base"][0] == 0
    # Bar lengths follow the data: intel-openmp (2 workloads) is about twice as long as mkl (1).
    want = _rgb(fleet_html.DEPENDENCY_COLOR)
    widths = [sum(1 for x in range(half) if _near(left.pixel(x, y), want))
              for y in range(lb["dependency"][2], lb["dependency"][4] + 1)]  # fmt: skip
    longest = max(widths)
    second = max(w for w in widths if 20 < w < 0.75 * longest)
    assert 1.8 < longest / second < 2.2, (longest, second)


def test_phone_width_is_one_readable_column(phone: Image) -> None:
    img = phone
    assert img.width == PHONE_WIDTH
    background = (0xF5, 0xF7, 0xFA)
    # Nothing runs off the right edge: the page's right margin is background on every row (a
    # four-column KPI row or a wide table would cover it, and the page would scroll sideways).
    covered = [y for y in range(img.height) if not _near(img.pixel(PHONE_WIDTH - 4, y), background, 2)]
    assert not covered, covered[:5]
    palette = {**fleet_html.COLORS, "dependency": fleet_html.DEPENDENCY_COLOR, "base": fleet_html.BASE_IMAGE_COLOR}
    boxes = _boxes(img, palette)
    # The donut keeps a readable size (220 px in the markup; shrunk to fit two columns it would be tiny).
    _count, x0, y0, x1, y1 = boxes["amd64"]
    assert x1 - x0 >= 150 and y1 - y0 >= 150 and x1 < PHONE_WIDTH - 8
    # Charts are stacked in one column: dependencies below the donut, base images below those.
    dep, base = boxes["dependency"], boxes["base"]
    assert dep[0] > 100 and base[0] > 50
    assert dep[2] > boxes["amd64"][4] and base[2] > dep[4]
    # Bars keep their drawn height (18 px), so the 13 px labels beside them are not scaled down.
    want = _rgb(fleet_html.DEPENDENCY_COLOR)
    column = next(x for x in range(PHONE_WIDTH - 1, 0, -1) if any(_near(img.pixel(x, y), want)
                  for y in range(dep[2], dep[4] + 1)))  # fmt: skip
    runs, run = [], 0
    for y in range(dep[2] - 2, dep[4] + 3):
        if _near(img.pixel(column, y), want):
            run += 1
        elif run:
            runs.append(run)
            run = 0
    assert runs and max(runs) >= 16, runs
