"""TCP echo for the lab's real servers (port 7): each line a client sends comes back as
'<hostname> <line>'. Connections stay open as long as the client wants, so the load generator
(tests/vmlab/traffic.py --hold) can tell whether a long-lived connection survives a change."""
import socket
import socketserver
import sys

NAME = socket.gethostname().encode()


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(NAME + b" " + line)
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("0.0.0.0", int(sys.argv[1])), Echo).serve_forever()
