"""archlint: workload ARM-readiness static analyzer and policy checker."""

from __future__ import annotations

__version__ = "0.1.0"
