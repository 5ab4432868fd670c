"""Listening ports are chosen outside the kernel's ephemeral range, so no outgoing connection takes one
between its choice and the service's bind."""

from __future__ import annotations

import socket

from infra import services


def test_free_ports_are_below_the_ephemeral_range_and_bindable() -> None:
    low = services._ephemeral_range()[0]
    for _ in range(20):
        port = services.free_port()
        assert services.LISTEN_PORTS[0] <= port < low
        with socket.socket() as sock:
            sock.bind((services.HOST, port))
