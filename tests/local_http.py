"""A protocol fake's HTTP server: on a free localhost port, each request on a thread."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets connections when hundreds arrive at once,
    # as a worker's sender makes them: a real gateway's load balancer takes them all.
    request_queue_size = 1024
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Serve `handler` on 127.0.0.1 and a free port, on a thread of its own; return it."""
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | None, released: threading.Event) -> None:
    """Let stalled requests go (`released`), then stop serving and close the port."""
    released.set()
    if server is not None:
        server.shutdown()
        server.server_close()
