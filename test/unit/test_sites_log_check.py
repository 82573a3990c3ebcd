"""The graph tests' log check: error lines fail a run; the allow-list lets through only the
transients it explains, and never a TLS trust failure."""

from neurohybrid.testing.sites import bad_lines, connection_transient

SERVER_BIND = "[RTCP_MSG_OUT Error] TCPTransport Error binding at port: (42100) with msg: bind: Address already in use"
RESET = "2026-12-02 [RTCP_TLS Error] Handshake failed: Connection reset by peer -> Function operator()"
TRUNCATED = "2026-12-02 [RTCP_TLS Error] Handshake failed: stream truncated -> Function operator()"
SYSTEM = "2026-12-02 [RTCP_TLS Error] Handshake failed: unspecified system error -> Function operator()"
VERIFY = "2026-12-02 [RTCP_TLS Error] Handshake failed: certificate verify failed -> Function operator()"
UNKNOWN_CA = "2026-12-02 [RTCP_TLS Error] Handshake failed: tlsv1 alert unknown ca -> Function operator()"
REQUEST = "2026-12-02 [RTCP Error] Failed sending Connection Request -> Function sendConnectionRequest"


def test_error_lines_fail_a_clean_run():
    log = "\n".join(["[INFO] fine", "[ERROR] [hub]: boom", "Traceback (most recent call last):", "[FATAL] x"])
    assert bad_lines(log) == ["[ERROR] [hub]: boom", "Traceback (most recent call last):", "[FATAL] x"]


def test_the_discovery_servers_bind_line_is_allowed_once_on_its_own_port_only():
    assert bad_lines(SERVER_BIND, hub_port=42100) == []
    assert bad_lines(SERVER_BIND, hub_port=42101) == [SERVER_BIND]
    assert bad_lines(f"{SERVER_BIND}\n{SERVER_BIND}", hub_port=42100) == [SERVER_BIND]


def test_connection_transients_are_allowed_but_trust_failures_never():
    log = "\n".join([RESET, TRUNCATED, SYSTEM, REQUEST, VERIFY, UNKNOWN_CA])
    assert bad_lines(log) == [VERIFY, UNKNOWN_CA]
    assert [connection_transient(line) for line in log.splitlines()] == [True] * 4 + [False] * 2
    assert not connection_transient("[ERROR] [hub]: Handshake failed: Connection reset by peer")
