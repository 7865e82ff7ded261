"""SARIF 2.1.0 as GitHub code scanning accepts it."""

from __future__ import annotations

from typing import Any

from archlint import __version__
from archlint.catalogue import catalogue

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP_URI = "https://github.com/archlint/archlint/blob/main/docs/rules.md#{code}"


def _rule_json(code: str) -> dict[str, Any]:
    r = catalogue().by_code[code]
    md = f"**What it does**: {r.what}\n\n**Why is this bad**: {r.why}\n\n"
    if r.example:
        md += f"**Example**:\n```\n{r.example}\n```\n\n"
    md += f"**Fix**: {r.fix}\n"
    if r.references:
        md += "\n**References**:\n" + "".join(f"- {u}\n" for u in r.references)
    return {
        "id": r.code,
        "name": "".join(part.capitalize() for part in r.name.split("-")),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.what},
        "help": {"text": f"{r.what}\n{r.why}\nFix: {r.fix}", "markdown": md},
        "helpUri": HELP_URI.format(code=r.code.lower()),
        "defaultConfiguration": {"level": _LEVEL[r.severity.label]},
        "properties": {"tags": ["arm64", r.area], "precision": "high"},
    }


def render(report: dict[str, Any]) -> dict[str, Any]:
    codes = sorted({f["rule"] for f in report["findings"]})
    index = {c: i for i, c in enumerate(codes)}
    results = []
    for f in report["findings"]:
        region: dict[str, Any] = {"startLine": f["line"], "startColumn": f["column"]}
        if f["end_line"]:
            region["endLine"] = f["end_line"]
        if f["end_column"]:
            region["endColumn"] = f["end_column"]
        result: dict[str, Any] = {
            "ruleId": f["rule"],
            "ruleIndex": index[f["rule"]],
            "level": _LEVEL[f["severity"]],
            "message": {"text": f["message"] + (f" [{f['workload']}]" if f["workload"] else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f["path"], "uriBaseId": "%SRCROOT%"},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {"archlint/v1": f["fingerprint"]},
        }
        if f["workload"]:
            result["properties"] = {"workload": f["workload"]}
        if f["fix"] and f["fix"]["edits"]:
            result["fixes"] = [
                {
                    "description": {"text": f["fix"]["description"]},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": e["path"], "uriBaseId": "%SRCROOT%"},
                            "replacements": [
                                {
                                    "deletedRegion": {
                                        "startLine": e["start_line"],
                                        "startColumn": e["start_column"],
                                        "endLine": e["end_line"],
                                        "endColumn": e["end_column"],
                                    },
                                    "insertedContent": {"text": e["content"]},
                                }
                            ],
                        }
                        for e in f["fix"]["edits"]
                    ],
                }
            ]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "archlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://github.com/archlint/archlint",
                        "rules": [_rule_json(c) for c in codes],
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
