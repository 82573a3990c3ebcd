"""The launch substitutions our files use: ``$(var)``, ``$(env)``, ``$(find-pkg-share)``, ``$(dirname)``,
``$(equals A B)`` and ``$(not-equals A B)`` (ROS 2 Jazzy; ``'...'`` quotes an argument, ``''`` is empty)."""

from __future__ import annotations

import os
from typing import Callable, Mapping

from neurohybrid.errors import NeurohybridError


class SubstitutionError(NeurohybridError):
    """A substitution is unknown or cannot be resolved."""


def find_pkg_share(package: str) -> str:
    """The share directory of an installed ROS package (ament index)."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        return get_package_share_directory(package)
    except PackageNotFoundError:
        raise SubstitutionError(f"$(find-pkg-share {package}): package not found") from None


def _split_call(body: str) -> tuple[str, list[str]]:
    parts = body.split()
    if not parts:
        raise SubstitutionError("empty substitution $()")
    return parts[0], parts[1:]


def substitute(text: str, variables: Mapping[str, str], dirname: str) -> str:
    """Resolve every ``$(...)`` in ``text`` (innermost first, so they can nest)."""
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
    """``true``/``false``: whether the two (unquoted) arguments are equal (``equal``) or differ."""
    if len(args) != 2:
        raise SubstitutionError(f"$({name} A B) takes two arguments (quote an empty one as ''), got {args}")
    return "true" if (_unquote(args[0]) == _unquote(args[1])) == equal else "false"


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
