"""Kubernetes manifests: reading them with lines, the cluster profile, scheduling, findings, edits."""
