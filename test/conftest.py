"""Session-wide isolation: every test session gets its own localhost-only DDS domain."""

from neurohybrid.testing.graph import isolate_discovery

DOMAIN_ID = isolate_discovery()
