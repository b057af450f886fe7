"""Speaks exactly as the seed 000 Python client does on the wire.

No join: every frame it sends is a bare Message (client_name, subject,
message, date, no type), headed `Content-length:N` with no space, its body
ending in a newline that N counts, its date local time as dd/mm/yyyy hh:mm:ss.
It reads a header by splitting the line at ':' and requires the name to be
exactly `Content-length`, and builds a Message from exactly the four seed keys:
a frame missing one of them raises, as it ended the seed's receiving thread.

Usage: seed_client.py PORT NAME TEXT FRAMES
Sends TEXT as NAME, then prints FRAMES received messages as "client_name: message".
"""
import json
import socket
import sys
from datetime import datetime


class Message:
    def __init__(self, client_name, subject, message, date):
        self.client_name = client_name
        self.subject = subject
        self.message = message
        self.date = date


def send(sock, message):
    body = json.dumps(message.__dict__) + "\n"
    data = body.encode("utf-8")
    sock.sendall(("Content-length:%d\n" % len(data)).encode("ascii") + data)


def receive(reader):
    line = reader.readline().decode("ascii")
    name, value = line.split(":")
    if name != "Content-length":
        raise ValueError("bad header name %r" % name)
    body = json.loads(reader.read(int(value.strip())).decode("utf-8"))
    return Message(body["client_name"], body["subject"], body["message"], body["date"])


def main():
    port, name, text, frames = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    reader = sock.makefile("rb")
    send(sock, Message(name, "", text, datetime.now().strftime("%d/%m/%Y %H:%M:%S")))
    for _ in range(frames):
        message = receive(reader)
        print("%s: %s" % (message.client_name, message.message), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
