"""Fleet reports: many repositories' JSON reports merged into one organisation-wide view."""
