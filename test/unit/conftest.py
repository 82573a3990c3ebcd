"""The device compliance suites' fixtures: a module naming ``DEVICE_KIND`` runs on every case of it.

``case`` is parametrised over every registered backend of the kind (its construction arguments
from :mod:`neurohybrid.testing.backends`); ``backend`` is that backend configured and armed.
"""

from __future__ import annotations

import pytest

from neurohybrid.testing import backends


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    kind = getattr(metafunc.module, "DEVICE_KIND", None)
    if kind is not None and "case" in metafunc.fixturenames:
        cases = backends.cases(kind)
        metafunc.parametrize("case", cases, ids=[c[0] for c in cases], indirect=True)


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory):
    """Where the cases of one module write their recordings."""
    return tmp_path_factory.mktemp("cases")


@pytest.fixture
def case(request, case_folder) -> tuple[str, dict]:
    """(backend name, construction arguments) of one registered backend."""
    _, name, make = request.param
    return name, make(case_folder)


@pytest.fixture
def device(request, case):
    """The case's backend, configured and armed; shut down afterwards."""
    b = backends.create(request.module.DEVICE_KIND, *case)
    b.configure()
    b.arm()
    yield b
    b.shutdown()
