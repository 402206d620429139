"""A protocol fake's HTTP server: on a free localhost port, each request on a thread."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Serve `handler` on 127.0.0.1 and a free port, on a thread of its own; return it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | None, released: threading.Event) -> None:
    """Let stalled requests go (`released`), then stop serving and close the port."""
    released.set()
    if server is not None:
        server.shutdown()
        server.server_close()
