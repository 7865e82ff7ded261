"""Renderers for manifests that are not plain YAML: kustomizations (`kubectl kustomize`) and Helm
charts (`helm template`), run in parallel by one bounded subprocess runner, with a source map from
each rendered object back to the file (and line) it was written in."""
