"""JUnit XML, as Jenkins, GitLab and most CI test-report viewers read it.

One test suite per file with findings, one test case per finding. A finding at or above
`--fail-on` is a failure; one below it is skipped (reported, not failing the build), so the
test report agrees with the exit code. A clean run is one passing test case.

The document validates against both schemas in use: the Apache Ant JUnit XSD (strict: no
attributes on <testsuites>, properties/system-out/system-err in order, a timestamp without a
zone) and the Jenkins xunit plugin's junit-10.xsd. Text from the scanned tree goes through
`printable`: XML 1.0 cannot hold most control characters at all.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from archlint.findings import Severity
from archlint.report.safe import printable as P


def _suite(index: int, name: str, cases: list[ET.Element], failures: int, skipped: int, stamp: str,
           host: str) -> ET.Element:  # fmt: skip
    suite = ET.Element("testsuite", {
        "name": name, "package": "archlint", "id": str(index), "tests": str(len(cases)), "failures": str(failures),
        "errors": "0", "skipped": str(skipped), "time": "0", "timestamp": stamp, "hostname": host,
    })  # fmt: skip
    ET.SubElement(suite, "properties")
    suite.extend(cases)
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    return suite


def render(report: dict[str, Any], fail_on: str = "error") -> str:
    threshold = Severity.parse(fail_on)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    host = P(socket.gethostname()).strip() or "localhost"
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in report["findings"]:
        by_file[f["path"]].append(f)
    root = ET.Element("testsuites")
    for index, path in enumerate(sorted(by_file)):
        cases, failures, skipped = [], 0, 0
        for f in by_file[path]:
            where = f"{f['line']}:{f['column']}"
            case = ET.Element("testcase", {"name": f"{f['rule']} {f['name']} at {where}", "classname": P(path),
                                           "time": "0"})  # fmt: skip
            message = P(f["message"]) + (f" [{P(f['workload'])}]" if f["workload"] else "")
            body = f"{P(path)}:{where}: {f['rule']} {message}"
            if f["fix"]:
                body += f"\nfix ({f['fix']['applicability']}): {P(f['fix']['description'])}"
            if Severity.parse(f["severity"]) >= threshold:
                failures += 1
                ET.SubElement(case, "failure", {"type": f["severity"], "message": message}).text = body
            else:
                skipped += 1
                ET.SubElement(case, "skipped", {"message": f"{f['severity']}: {message}"})
            cases.append(case)
        root.append(_suite(index, P(path), cases, failures, skipped, stamp, host))
    if not by_file:
        clean = ET.Element("testcase", {"name": "no findings", "classname": "archlint", "time": "0"})
        root.append(_suite(0, "archlint", [clean], 0, 0, stamp, host))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
