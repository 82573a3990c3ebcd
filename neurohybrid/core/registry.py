"""Backends registered by name, one registry per device kind (as neo / SpikeInterface do)."""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

from neurohybrid.core.errors import UnknownBackendError

T = TypeVar("T")


class BackendRegistry(Generic[T]):
    """Maps backend names to factories for one device kind.

    Third-party backends can register through the entry-point group
    ``neurohybrid.<kind>_backends``; a plugin that fails to load is skipped with a warning.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self._plugins_loaded = False

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Class decorator registering a backend factory under ``name``."""

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"{self.kind} backend {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return decorator

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=f"neurohybrid.{self.kind}_backends"):
            try:
                self._factories.setdefault(ep.name, ep.load())
            except Exception as exc:  # a broken plugin must not take the node down
                warnings.warn(f"skipping {self.kind} backend plugin {ep.name!r}: {exc}")

    def names(self) -> list[str]:
        """Registered backend names, sorted."""
        self._load_plugins()
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        """The factory (class) registered as ``name``; unknown names list the available ones."""
        self._load_plugins()
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownBackendError(
                f"unknown {self.kind} backend {name!r}; available: {', '.join(self.names())}"
            ) from None

    def create(self, name: str, **kwargs: object) -> T:
        """Build backend ``name`` with ``kwargs``; unknown names list the available ones."""
        return self.factory(name)(**kwargs)
