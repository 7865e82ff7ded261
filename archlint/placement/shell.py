"""Just enough shell: split a RUN line or CI script into simple commands and their words."""

from __future__ import annotations

import re

MAX_WORDS = 100_000


# A shell word (quoted parts, escapes and plain characters glued together) or an operator.
_TOKEN = re.compile(r"""((?:'[^']*'|"(?:\\.|[^"\\])*"|\\.|[^\s'"\\;&|()])+)|(&&|\|\||;;|[;&|()\n])""")
_QUOTED = re.compile(r"""'([^']*)'|"((?:\\.|[^"\\])*)"|\\(.)""")
_WRAPPERS = frozenset({"sudo", "env", "exec", "then", "do", "else", "time", "if", "while", "until", "!"})


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    return _QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else
                       re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None else m.group(3), word)  # fmt: skip


def commands(script: str) -> list[list[str]]:
    """Simple commands of `script`, each a list of words with quotes removed.

    Newlines separate commands (heredoc bodies, multi-line CI scripts); an unbalanced quote
    ends up as a plain character rather than failing. A regular-expression tokenizer, not
    shlex: RUN lines are scanned by the thousand and shlex is 10x slower.
    """
    text = script.replace("\\\n", " ")
    out: list[list[str]] = []
    cur: list[str] = []
    count = 0
    comment = False
    for m in _TOKEN.finditer(text):
        word = m.group(1)
        if word is None:
            if comment and m.group(2) != "\n":
                continue
            comment = False
            if cur:
                out.append(cur)
            cur = []
            continue
        if comment or word.startswith("#"):
            comment = True  # a comment runs to the end of the line
            continue
        cur.append(_unquote(word))
        count += 1
        if count > MAX_WORDS:
            break
    if cur:
        out.append(cur)
    cleaned = []
    for cmd in out:
        # Drop leading environment assignments and wrappers (`sudo`, `env X=1`).
        while cmd and (cmd[0] in _WRAPPERS or (_ASSIGN.match(cmd[0]) is not None)):
            cmd = cmd[1:]
        if cmd:
            cleaned.append(cmd)
    return cleaned


_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def option_value(words: list[str], *names: str) -> list[str]:
    """Values of `--name value` / `--name=value` / `-t value` options, in order."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        for name in names:
            if w == name and i + 1 < len(words):
                out.append(words[i + 1])
                i += 1
                break
            if name.startswith("--") and w.startswith(name + "="):
                out.append(w[len(name) + 1 :])
                break
        i += 1
    return out
