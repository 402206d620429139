"""The origins a WebSocket handshake may come from, matched exactly by Channels."""

from collections.abc import Sequence


def default_origins(hosts: Sequence[str], port: int) -> list[str]:
    """Each allowed host over HTTPS on 443 (behind a proxy) and over HTTP on the served port.

    A bare host name in Channels' `OriginValidator` matches any scheme and port; giving the
    scheme and port makes it compare all three.
    """
    origins = []
    for host in hosts:
        if host == "*":
            origins.append("*")
            continue
        origins += [f"https://{host}", f"http://{host}:{port}"]
    return origins
