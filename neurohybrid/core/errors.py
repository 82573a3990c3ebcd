"""One error family for the whole package (see ros2cli ``PluginException``)."""


class NeurohybridError(Exception):
    """Base class of every error raised on purpose by neurohybrid."""


class ConfigError(NeurohybridError, ValueError):
    """A configuration value is invalid; the message names the key, value and allowed range."""


class UnknownBackendError(NeurohybridError, KeyError):
    """A backend name is not registered; the message lists the registered names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class SafetyRefusal(NeurohybridError):
    """A command was refused whole because it breaks a safety limit (never clipped)."""

    def __init__(self, limit: str, value: float, allowed: str, detail: str = "") -> None:
        self.limit = limit
        self.value = value
        self.allowed = allowed
        msg = f"refused: {limit}={value!r} outside allowed {allowed}"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class DeviceError(NeurohybridError):
    """A device backend could not open, read or write its device."""
