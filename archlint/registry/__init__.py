"""Container registries: which platforms an image is published for (`--check-images`)."""
