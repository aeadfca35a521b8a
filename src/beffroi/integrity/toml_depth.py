"""How deeply a TOML text nests its arrays and inline tables, without parsing it.

tomllib recurses once per level, so a mapping of a few KB of "[" reaches Python's recursion
limit. Catching the RecursionError afterwards works, but leaves thousands of half-built
lists to be finalised deep inside the interpreter, which has crashed the test runner's
hooks. Measuring the depth first means such a text is never handed to the parser.
"""

from __future__ import annotations

import re

# Comments and strings first, so that brackets inside them do not count; then one bracket.
_TOKEN = re.compile(
    r"""#[^\n]*"""
    r'''|"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""'''
    r"""|'''[\s\S]*?'''"""
    r'''|"(?:[^"\\\n]|\\.)*"'''
    r"""|'[^'\n]*'"""
    r"""|[\[\]{}]"""
)


def max_nesting(text: str) -> int:
    """Deepest nesting of brackets and braces outside comments and strings.

    Table headers (`[a]`, `[[a]]`) count as one or two levels, which only matters to a limit
    far above any real mapping's depth. An unterminated string makes the brackets after it
    count, an over-estimate that tomllib refuses anyway.
    """
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif piece in ("]", "}"):
            depth = max(0, depth - 1)
    return deepest
