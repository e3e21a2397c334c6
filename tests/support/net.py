"""Ports and sockets for the network failure cases: nobody listening, black holes, silence.

The kernel does the work in each, so the probe sees what it would see on a real network.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A loopback port nobody listens on (bound, then let go: a server started later may take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port held bound but not listening: the kernel refuses, and no one else can take it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


@contextmanager
def black_hole() -> Iterator[int]:
    """A listener whose accept queue is full: the kernel leaves further SYNs unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)  # the fillers' handshakes complete and fill the queue
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that completes TCP handshakes and then never says anything."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def read_head(sock: socket.socket, chunk: int = 1024) -> bytes:
    """Read an HTTP head up to and including its blank line; b"" if the peer closes first.

    Bytes after the blank line, if the same read brought them, are returned too.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(chunk)
        if not more:
            return b""
        data += more
    return data
