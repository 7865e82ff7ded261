"""Which files belong to a Helm chart (a directory with Chart.yaml), for discovery: its
templates are Go templates, never YAML to parse, and the chart is what gets rendered.

Kept free of heavy imports: discovery asks this for YAML files under a `templates` directory
and for `values*.yaml` files, with one cached stat per directory.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

CHART_FILE = "Chart.yaml"
_VALUES = re.compile(r"^values(?:[.-][\w.-]+)?\.ya?ml$|^values\.schema\.json$")


@functools.lru_cache(maxsize=4096)
def is_chart_dir(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, CHART_FILE))


def chart_of(path: Path) -> Path | None:
    """The chart directory a file belongs to: Chart.yaml and values files at its top, anything
    under its templates/ directory. None for everything else."""
    name = path.name
    parent = path.parent
    if name == CHART_FILE or _VALUES.match(name):
        return parent if is_chart_dir(str(parent)) else None
    if "templates" not in parent.parts:
        return None
    d = parent
    while d.parent != d:
        if d.name == "templates" and is_chart_dir(str(d.parent)):
            return d.parent
        if is_chart_dir(str(d)):
            return None  # in a chart, but not in its templates (crds/, ci/, files/)
        d = d.parent
    return None


def top_chart(chart: Path) -> Path:
    """The chart that renders `chart`: itself, or for a subchart in a parent's charts/
    directory, that parent's (recursively): helm renders subcharts with their parent."""
    while chart.parent.name == "charts" and is_chart_dir(str(chart.parent.parent)):
        chart = chart.parent.parent
    return chart
