"""Per-target candidate selection (pip's rules) and dependency-tree resolution (resolvelib)."""
