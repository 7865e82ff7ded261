"""Positions for the few nodes that carry a finding, at the cost of one plain code generation.

libcst's PositionProvider records a CodeRange for every node of the module, which costs ~7x a
plain `Module.code`; we need a handful. This codegen state tracks line/column like
PositionProvidingCodegenState but records only the requested nodes, with the same semantics
(syntactic span when the node declares one, whitespace-inclusive span otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")

Span = tuple[int, int, int, int]  # start line (1-based), start column (0-based), end line, end column


class _State(CodegenState):
    def __init__(self, module: cst.Module, targets: Collection[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.line = 1
        self.column = 0
        self.starts: dict[int, tuple[int, int]] = {}
        self.spans: dict[cst.CSTNode, Span] = {}

    def _advance(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = _NEWLINE.split(value)
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for t in self.indent_tokens:
            self._advance(t)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self.starts[id(node)] = (self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets and node not in self.spans:
            line, col = self.starts.pop(id(node))
            self.spans[node] = (line, col, self.line, self.column)

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        if node not in self.targets:
            yield
            return
        start = (self.line, self.column)
        try:
            yield
        finally:
            end = (self.line, self.column)
            if start_node is not None and start_node in self.spans:
                start = self.spans[start_node][:2]
            if end_node is not None and end_node in self.spans:
                end = self.spans[end_node][2:]
            self.spans[node] = (start[0], start[1], end[0], end[1])


def spans(module: cst.Module, targets: Collection[cst.CSTNode]) -> dict[cst.CSTNode, Span]:
    # Identity semantics: libcst nodes compare by identity, so a set of them is an identity set.
    state = _State(module, set(targets))
    module._codegen(state)
    return state.spans
