"""Transport across sites: Fast DDS TCPv4 + TLS profiles, lab certificates, the Discovery Server.

Pure Python, no ROS: ``profiles`` renders XML profiles (standard library only), ``certs``
creates the lab CA and per-lab keys (needs ``cryptography``), ``discovery`` runs the hub's
``fastdds discovery`` process, ``cli`` adds ``neurohybrid certs``.
"""

from neurohybrid.transport.profiles import (
    DEFAULT_HUB_PORT,
    TlsIdentity,
    lab_environment,
    render_profile,
    write_profile,
)

__all__ = ["DEFAULT_HUB_PORT", "TlsIdentity", "lab_environment", "render_profile", "write_profile"]
