"""The dependency engine: targets, the package index, availability, upgrades, vulnerabilities."""
