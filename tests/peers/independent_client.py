"""A client written from the protocol description alone, sharing no code with the project.

Usage: independent_client.py PORT NAME
Joins as NAME, sends "hello from python" to everyone and "psst" privately to
"ana", lists the users, then prints every frame it receives as one JSON line
until it has seen a chat from ana, and quits.
"""
import json
import socket
import sys


def frame(obj):
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return b"Content-length: " + str(len(body)).encode() + b"\n" + body


def frames(reader):
    while True:
        header = reader.readline()
        if not header:
            return
        name, _, value = header.decode("ascii").partition(":")
        assert name.strip().lower() == "content-length", header
        yield json.loads(reader.read(int(value.strip())).decode("utf-8"))


def main():
    port, name = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    reader = sock.makefile("rb")
    incoming = frames(reader)
    sock.sendall(frame({"type": "join", "client_name": name}))
    welcome = next(incoming)
    print(json.dumps(welcome, ensure_ascii=False), flush=True)
    sock.sendall(frame({"type": "chat", "message": "hello from python ✓"}))
    sock.sendall(frame({"type": "chat", "message": "psst", "to": "ana"}))
    sock.sendall(frame({"type": "list"}))
    for message in incoming:
        print(json.dumps(message, ensure_ascii=False), flush=True)
        if message["type"] == "chat" and message["client_name"] == "ana":
            break
    sock.sendall(frame({"type": "quit"}))
    assert reader.read() == b"", "the server closes the connection after quit"


if __name__ == "__main__":
    main()
