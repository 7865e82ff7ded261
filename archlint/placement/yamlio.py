"""Safe YAML loading with line numbers (ruamel's round-trip loader never builds arbitrary
objects) and bounded input, for skaffold, compose and CI files."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 1000


class YamlError(ValueError):
    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def load_all(text: str) -> list[Any]:
    if len(text) > MAX_YAML_BYTES:
        raise YamlError(f"larger than {MAX_YAML_BYTES} bytes; not parsed")
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        docs = []
        for doc in yaml.load_all(text):
            docs.append(doc)
            if len(docs) > MAX_DOCUMENTS:
                raise YamlError(f"more than {MAX_DOCUMENTS} YAML documents")
        return docs
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (e.problem or e.context or "invalid YAML").strip()
        raise YamlError(f"invalid YAML: {problem}", line) from None
    except YAMLError as e:
        raise YamlError(f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


def key_line(node: Any, key: Any) -> int:
    """1-based line of `key` in a mapping loaded by load_all (1 when unknown)."""
    if isinstance(node, CommentedMap):
        try:
            return int(node.lc.key(key)[0]) + 1
        except (KeyError, TypeError, AttributeError):
            pass
        return int(node.lc.line) + 1
    return 1


def value_pos(node: Any, key: Any) -> tuple[int, int] | None:
    """1-based (line, column) where the value of `key` starts."""
    if isinstance(node, CommentedMap):
        try:
            line, col = node.lc.value(key)
            return int(line) + 1, int(col) + 1
        except (KeyError, TypeError, AttributeError):
            return None
    return None


def item_pos(seq: Any, index: int) -> tuple[int, int] | None:
    """1-based (line, column) where item `index` of a sequence starts (its content, after `- `)."""
    if isinstance(seq, CommentedSeq):
        try:
            line, col = seq.lc.item(index)
            return int(line) + 1, int(col) + 1
        except (KeyError, TypeError, AttributeError, IndexError):
            return None
    return None
