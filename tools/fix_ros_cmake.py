"""Repair the CMake exports of the ROS 2 wheels so colcon can build interfaces against them.

The wheels' ``*__rosidl_generator_pyExport.cmake`` files name include directories of the
machine that built them (``/opt/python/cp311-cp311/...``); CMake's generate step fails on
paths that do not exist. This rewrites them to this interpreter's Python and numpy include
directories. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy

_BUILD_PREFIX = re.compile(r"/opt/python/cp3\d+-cp3\d+")


def replacements() -> dict[str, str]:
    """Map each foreign include path pattern to the local directory."""
    return {
        r"/opt/python/cp3\d+-cp3\d+/include/python3\.\d+": sysconfig.get_paths()["include"],
        r"/opt/python/cp3\d+-cp3\d+/lib/python3\.\d+/site-packages/numpy/_core/include": numpy.get_include(),
    }


def fix(prefix: Path) -> int:
    """Rewrite the CMake files under ``prefix/share``; return how many files changed."""
    changed = 0
    for path in sorted(prefix.glob("share/*/cmake/*.cmake")):
        text = path.read_text()
        if not _BUILD_PREFIX.search(text):
            continue
        new = text
        for pattern, local in replacements().items():
            new = re.sub(pattern, local.replace("\\", "/"), new)
        if new != text:
            path.write_text(new)
            changed += 1
    return changed


def main() -> int:
    prefix = Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)
    n = fix(prefix)
    print(f"fix_ros_cmake: {n} CMake export file(s) repaired under {prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
