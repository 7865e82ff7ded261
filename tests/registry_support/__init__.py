"""Test support for the registry tests: OCI layouts, the real registry, scripted servers."""
