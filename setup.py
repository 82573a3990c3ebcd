"""Python distribution of neurohybrid, consistent with package.xml.

The ROS 2 build (colcon + CMakeLists.txt) is the primary way to install: it also generates the
message types. This file describes the same Python package for tools that read setup.py and
for a pure-Python install of the core (devices, hub, launcher) without messages.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from setuptools import find_packages, setup

_HERE = Path(__file__).parent
_PKG = ET.parse(_HERE / "package.xml").getroot()
_VERSION = _PKG.findtext("version")
assert _VERSION == re.search(r'__version__ = "(.+)"', (_HERE / "neurohybrid/__init__.py").read_text())[1]

setup(
    name=_PKG.findtext("name"),
    version=_VERSION,
    description=" ".join(_PKG.findtext("description").split()),
    license=_PKG.findtext("license"),
    maintainer=_PKG.find("maintainer").text,
    maintainer_email=_PKG.find("maintainer").get("email"),
    packages=find_packages(include=["neurohybrid", "neurohybrid.*"]),
    python_requires=">=3.10",
    install_requires=["numpy", "scipy", "pyyaml", "matplotlib", "mcap", "mcap-ros2-support"],
    entry_points={"console_scripts": ["neurohybrid = neurohybrid.cli:main"]},
)
