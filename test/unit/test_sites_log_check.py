"""The graph tests' log check: error lines fail a run; the allow-list lets through only the
transients it explains, and never a TLS trust failure or anything in a first start."""

from datetime import datetime

from neurohybrid.testing.sites import bad_lines, logged_at

SERVER_BIND = "[RTCP_MSG_OUT Error] TCPTransport Error binding at port: (42100) with msg: bind: Address already in use"
RESET = "2026-12-02 [RTCP_TLS Error] Handshake failed: Connection reset by peer -> Function operator()"
SYSTEM = "2026-12-02 [RTCP_TLS Error] Handshake failed: unspecified system error -> Function operator()"
VERIFY = "2026-12-02 [RTCP_TLS Error] Handshake failed: certificate verify failed -> Function operator()"
UNKNOWN_CA = "2026-12-02 [RTCP_TLS Error] Handshake failed: tlsv1 alert unknown ca -> Function operator()"
REQUEST = "2026-12-02 [RTCP Error] Failed sending Connection Request -> Function sendConnectionRequest"


def test_error_lines_fail_a_clean_run():
    log = "\n".join(["[INFO] fine", "[ERROR] [hub]: boom", "Traceback (most recent call last):", RESET])
    assert bad_lines(log) == ["[ERROR] [hub]: boom", "Traceback (most recent call last):", RESET]


def test_the_discovery_servers_bind_line_is_allowed_once_on_its_own_port_only():
    assert bad_lines(SERVER_BIND, hub_port=42100) == []
    assert bad_lines(SERVER_BIND, hub_port=42101) == [SERVER_BIND]
    assert bad_lines(f"{SERVER_BIND}\n{SERVER_BIND}", hub_port=42100) == [SERVER_BIND]


def test_connection_transients_are_allowed_after_a_relaunch_but_trust_failures_never():
    log = "\n".join([RESET, SYSTEM, REQUEST, VERIFY, UNKNOWN_CA])
    assert bad_lines(log, relaunched=True) == [VERIFY, UNKNOWN_CA]
    assert bad_lines(log) == [RESET, SYSTEM, REQUEST, VERIFY, UNKNOWN_CA]


def test_connection_transients_are_allowed_from_the_first_fault_on_only():
    stamped = "[mea_node-1] \x1b[37;1m2026-12-02 17:43:51.205 \x1b[31;1m[\x1b[37;1mRTCP_TLS\x1b[31;1m Error] " \
              "\x1b[37mHandshake failed: Connection reset by peer\x1b[34;1m -> Function \x1b[36moperator()\x1b[m"
    stamp = logged_at(stamped)
    assert stamp == datetime(2026, 12, 2, 17, 43, 51, 205000).timestamp()
    assert bad_lines(stamped, faults_since=stamp) == []
    assert bad_lines(stamped, faults_since=stamp + 1.0) == [stamped]
    assert bad_lines(RESET, faults_since=0.0) == [RESET], "a line without a stamp is never allowed"
    assert bad_lines(VERIFY.replace("2026-12-02", "2026-12-02 17:43:51.205"), faults_since=0.0) != []
