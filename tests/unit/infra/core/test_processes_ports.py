"""Listening ports are chosen outside the kernel's ephemeral range, so no outgoing connection takes one
between its choice and the service's bind."""

from __future__ import annotations

import socket

from infra.core import processes


def test_free_ports_are_below_the_ephemeral_range_and_bindable() -> None:
    low = processes._ephemeral_range()[0]
    for _ in range(20):
        port = processes.free_port()
        assert processes.LISTEN_PORTS[0] <= port < low
        with socket.socket() as sock:
            sock.bind((processes.HOST, port))
