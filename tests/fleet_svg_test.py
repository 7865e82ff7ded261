"""The inline SVG charts: geometry that follows the data, and the edge cases (nothing, one
segment, many repositories)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from archlint.fleet import svg
from tests.conftest import FIXTURES, CliResult

NS = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ElementTree.Element:
    # Inline SVG in HTML needs no namespace; add it to parse the fragment as XML.
    return ElementTree.fromstring(text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_donut_segments_sweep_in_proportion() -> None:
    segs = [svg.Segment("arm64", 1, "#1b873f"), svg.Segment("amd64", 3, "#d1352b"), svg.Segment("none", 0, "#000")]
    root = parse(svg.donut(segs, size=200, centre="25%"))
    paths = root.findall(f"{NS}path")
    assert [p.get("fill") for p in paths] == ["#1b873f", "#d1352b"]  # zero values are left out
    # The first arc starts at 12 o'clock and ends a quarter turn later (1 of 4): at 3 o'clock.
    m = re.match(r"M([\d.]+),([\d.]+) A[\d.]+,[\d.]+ 0 (\d) 1 ([\d.]+),([\d.]+)", paths[0].get("d", ""))
    assert m
    x0, y0, large, x1, y1 = float(m[1]), float(m[2]), m[3], float(m[4]), float(m[5])
    assert (x0, y0) == (100, 0) and large == "0"
    assert math.isclose(x1, 200, abs_tol=0.01) and math.isclose(y1, 100, abs_tol=0.01)
    assert re.search(r" 0 1 1 ", paths[1].get("d", ""))  # 3 of 4 is more than half: the large arc
    assert root.find(f"{NS}title").text == "arm64: 1, amd64: 3, none: 0"  # type: ignore[union-attr]
    assert [t.text for t in root.findall(f"{NS}text")] == ["25%"]


def test_donut_single_value_is_a_full_ring_and_empty_is_a_grey_track() -> None:
    full = parse(svg.donut([svg.Segment("arm64", 5, "#1b873f"), svg.Segment("amd64", 0, "#d1352b")]))
    assert not full.findall(f"{NS}path")  # an arc from a point to itself would draw nothing
    [ring] = full.findall(f"{NS}circle")
    assert ring.get("stroke") == "#1b873f"
    empty = parse(svg.donut([svg.Segment("arm64", 0, "#1b873f")]))
    [track] = empty.findall(f"{NS}circle")
    assert track.get("stroke") == "#e3e7ee"


def test_hbars_scale_to_the_largest_and_clip_long_labels() -> None:
    bars = [svg.Bar("intel-openmp", 4, "t"), svg.Bar("mkl", 2, "t"), svg.Bar("x" * 80, 1, "<t>")]
    root = parse(svg.hbars(bars, "#e07b00", width=500, label_width=200))
    widths = [float(r.get("width", "0")) for r in root.findall(f"{NS}rect")]
    assert widths[0] == 500 - 200 - 44 and widths[1] == widths[0] / 2 and widths[2] == widths[0] / 4
    labels = [t.text or "" for t in root.findall(f"{NS}text")]
    assert labels[0] == "intel-openmp" and labels[4].endswith("…") and len(labels[4]) < 30
    assert root.findall(f"{NS}rect")[2].find(f"{NS}title").text == "<t>"  # type: ignore[union-attr]


def test_stacked_rows_fill_the_track_in_order() -> None:
    row = svg.StackedRow("shop", (svg.Segment("arm64", 1, "#a"), svg.Segment("amd64", 3, "#b")), "25%")
    root = parse(svg.stacked_bars([row], width=400, label_width=100))
    track, first, second = root.findall(f"{NS}rect")
    total = float(track.get("width", "0"))
    assert math.isclose(float(first.get("width", "0")), total / 4)
    assert math.isclose(float(second.get("x", "0")), 100 + total / 4)
    assert math.isclose(float(first.get("width", "0")) + float(second.get("width", "0")), total)


def test_many_repositories_chart_is_capped_and_the_table_has_them_all(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    paths = []
    for i in range(45):
        p = tmp_path / f"repo-{i:02}.json"
        # 45 repositories (identical copies would be one report given 45 times, counted once).
        doc = json.loads((FIXTURES / "fleet" / "reports" / "search.json").read_text())
        doc["repository"] = {"id": f"git.example/repo-{i:02}", "paths": ["."], "commit": None, "committed_at": None}
        p.write_text(json.dumps(doc))
        paths.append(str(p))
    out = tmp_path / "fleet.html"
    assert cli(["report", "merge", *paths, "--format", "html", "-o", str(out)]).rc == 0
    page = out.read_text()
    chart = page[page.index('id="per-repository"') :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count(">50%</text>") == 40
    assert "…and 5 more in the table below." in page
    table = page[page.index("<h2>Repositories</h2>") :]
    assert table[: table.index("</table>")].count("<tr><td>repo-") == 45
