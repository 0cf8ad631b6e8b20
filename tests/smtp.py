"""A small SMTP server for tests and fault runs: records what it is sent, can be slow or hang."""

import socketserver
import threading


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend; a stalled server greets, then never answers."""

    def handle(self):
        server = self.server
        if server.delay and server.slow_at == "greeting":
            server.release.wait(server.delay)  # a slow server: slow to answer at all
        self.wfile.write(b"220 test ESMTP\r\n")
        if server.stalled:
            server.release.wait(120)
            return
        lines, data = [], False
        for raw in self.rfile:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if data:
                if line == ".":
                    if server.delay and server.slow_at == "accept":
                        # Slow to confirm a message it has taken: a client killed meanwhile
                        # never hears the 250 and sends again (SMTP's duplicate window).
                        server.release.wait(server.delay)
                    with server.lock:
                        server.messages.append("\n".join(lines))
                    lines, data = [], False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
            elif line[:4].upper() == "DATA":
                data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif line[:4].upper() == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, stalled: bool = False, delay: float = 0.0, slow_at: str = "greeting"):
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.stalled, self.delay, self.slow_at = stalled, delay, slow_at
        self.release, self.lock, self.messages = threading.Event(), threading.Lock(), []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.shutdown()
        self.server_close()
