"""What the placement scanners hand each other through `Facts.extra` within one run."""

from __future__ import annotations

from dataclasses import dataclass, field

from archlint.facts import Facts
from archlint.placement.dockerfile_checks import Analysis
from archlint.placement.links import Link
from archlint.placement.sites import BuildSite

KEY = "placement"


@dataclass
class PlacementState:
    sites: list[BuildSite] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)  # image name -> chosen link
    dockerfiles: dict[str, Analysis] = field(default_factory=dict)  # Dockerfile path -> analysis
    wanted: dict[str, str] = field(default_factory=dict)  # image name -> reference as written in manifests
    dockerfile_paths: list[str] = field(default_factory=list)
    # Image names that had a verdict before the Kubernetes scanner ran: it reports their conflicts.
    preseen: set[str] = field(default_factory=set)


def get(facts: Facts) -> PlacementState:
    state = facts.extra.get(KEY)
    if not isinstance(state, PlacementState):
        state = PlacementState()
        facts.extra[KEY] = state
    return state
