"""GitLab Code Quality (`artifacts: reports: codequality`): the Code Climate issue subset GitLab
reads, shown in merge-request widgets and diffs.

GitLab matches issues between the source and target branch by `fingerprint` and shows only the
first issue of a fingerprint, so each must be unique in a report and stable across runs:
archlint's own fingerprints are line-independent (a moved line keeps its finding) and, for
the rare repeat in one file, the occurrence number is folded in.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

# GitLab's scale is info, minor, major, critical, blocker.
SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def _fingerprint(base: str, seen: Counter[str]) -> str:
    n = seen[base]
    seen[base] += 1
    return base if n == 0 else hashlib.sha256(f"{base}:{n}".encode()).hexdigest()[:32]


def render(report: dict[str, Any]) -> list[dict[str, Any]]:
    seen: Counter[str] = Counter()
    issues = []
    for f in report["findings"]:
        message = f["message"] + (f" [{f['workload']}]" if f["workload"] else "")
        issues.append(
            {
                "type": "issue",
                "check_name": f["rule"],
                "description": f"{f['rule']} {f['name']}: {message}",
                "categories": ["Compatibility"],
                "severity": SEVERITY[f["severity"]],
                "fingerprint": _fingerprint(f["fingerprint"], seen),
                "location": {"path": f["path"], "lines": {"begin": f["line"], "end": f["end_line"] or f["line"]}},
            }
        )
    return issues
