"""A tiny HTTP server on 127.0.0.1 whose latency grows with concurrent requests (a capacity knee).

Used only to produce real Locust output for the ingestion corpus (see make_locust.sh).
"""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

busy = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global busy
        with lock:
            busy += 1
            n = busy
        time.sleep(0.01 + 0.004 * n * n / 10)  # service time grows with load
        with lock:
            busy -= 1
        status = 500 if n > 45 and self.path.endswith("/score") and n % 7 == 0 else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
