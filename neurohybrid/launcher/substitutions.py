"""The launch substitutions our files use: ``$(var)``, ``$(env)``, ``$(find-pkg-share)``, ``$(dirname)``,
``$(equals A B)`` and ``$(not-equals A B)`` (ROS 2 Jazzy; ``'...'`` quotes an argument, ``''`` is empty)."""

from __future__ import annotations

import math
import os
import re
from typing import Callable, Mapping

from neurohybrid.core.errors import NeurohybridError


class SubstitutionError(NeurohybridError):
    """A substitution is unknown or cannot be resolved."""


def find_pkg_share(package: str) -> str:
    """The share directory of an installed ROS package (ament index)."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        return get_package_share_directory(package)
    except PackageNotFoundError:
        raise SubstitutionError(f"$(find-pkg-share {package}): package not found") from None


#: ``''`` or ``""`` as a whole word (between spaces or parentheses).
_EMPTY_QUOTED = re.compile(r"(?<=[ (])(''|\"\")(?=[ )])")


def _empty_quoted_argument(text: str) -> bool:
    """Whether ``text`` has ``''``/``""`` as an argument of a ``$(...)`` (at any depth)."""
    depth = [0]
    for i, ch in enumerate(text):
        depth.append(depth[-1] + (text.startswith("$(", i) - (ch == ")")))
    return any(depth[m.start()] > 0 for m in _EMPTY_QUOTED.finditer(text))


def _split_call(body: str) -> tuple[str, list[str]]:
    parts = body.split()
    if not parts:
        raise SubstitutionError("empty substitution $()")
    return parts[0], parts[1:]


def substitute(text: str, variables: Mapping[str, str], dirname: str) -> str:
    """Resolve every ``$(...)`` in ``text`` (innermost first, so they can nest).

    A quoted empty argument (``''``) is refused: stock launch reads it as the text ``[]``, so
    ``$(equals '$(var a)' '')`` is false there even when ``a`` is empty. Compare with a prefix
    on both sides instead: ``$(equals 'x$(var a)' 'x')``.
    """
    if _empty_quoted_argument(text):
        raise SubstitutionError(
            f"{text!r}: a quoted empty argument reads as '[]' under stock ROS 2 launch; compare "
            f"with a prefix on both sides instead, e.g. $(equals 'x$(var a)' 'x')")
    handlers: dict[str, Callable[[list[str]], str]] = {
        "var": lambda a: _var(a, variables),
        "env": _env,
        "find-pkg-share": lambda a: find_pkg_share(_one("find-pkg-share", a)),
        "dirname": lambda a: dirname,
        "equals": lambda a: _compare("equals", a, True),
        "not-equals": lambda a: _compare("not-equals", a, False),
    }
    while True:
        start = text.rfind("$(")
        if start < 0:
            return text
        end = text.find(")", start)
        if end < 0:
            raise SubstitutionError(f"unterminated substitution in {text!r}")
        name, args = _split_call(text[start + 2:end])
        if name not in handlers:
            raise SubstitutionError(
                f"unknown substitution $({name}); supported: {', '.join(sorted(handlers))}"
            )
        text = text[:start] + handlers[name](args) + text[end + 1:]


def _one(name: str, args: list[str]) -> str:
    if len(args) != 1:
        raise SubstitutionError(f"$({name}) takes one argument, got {args}")
    return args[0]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _compare(name: str, args: list[str], equal: bool) -> str:
    """``true``/``false``: whether the two (unquoted) arguments are equal (``equal``) or differ.

    As stock ``launch`` compares: two booleans (true/false/1/0) by truth, two numbers by
    ``math.isclose``, anything else as text.
    """
    if len(args) != 2:
        raise SubstitutionError(f"$({name} A B) takes two arguments, got {args}")
    left, right = _unquote(args[0]), _unquote(args[1])
    return "true" if _equal(left, right) == equal else "false"


def _equal(left: str, right: str) -> bool:
    booleans = ("true", "false", "1", "0")
    if left.lower() in booleans and right.lower() in booleans:
        return (left.lower() in ("true", "1")) == (right.lower() in ("true", "1"))
    try:
        return math.isclose(float(left), float(right))
    except ValueError:
        return left == right


def _var(args: list[str], variables: Mapping[str, str]) -> str:
    key = _one("var", args)
    if key not in variables:
        raise SubstitutionError(f"$(var {key}): launch argument not declared")
    return variables[key]


def _env(args: list[str]) -> str:
    if len(args) not in (1, 2):
        raise SubstitutionError(f"$(env NAME [DEFAULT]) takes one or two arguments, got {args}")
    if args[0] in os.environ:
        return os.environ[args[0]]
    if len(args) == 2:
        return args[1]
    raise SubstitutionError(f"$(env {args[0]}): environment variable not set and no default")
