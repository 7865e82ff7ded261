"""Build files: setup.py, pyproject.toml, setup.cfg, CMake, meson and Makefiles."""

from __future__ import annotations
