"""A course client in the style of seed 002: plain text over a raw socket.

It sends its name as the first line, then each message as a line, without
waiting for any prompt, and prints every line it receives that has the form
`name >> message` (the time in front, if any, is dropped).

Usage: line_client.py PORT NAME LINES COUNT
Sends NAME, then each line of LINES (separated by "|"), then prints COUNT
received `name >> message` lines and exits.
"""
import re
import socket
import sys


def main():
    port, name, lines, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    sock.sendall((name + "\n").encode("utf-8"))
    for line in lines.split("|"):
        if line:
            sock.sendall((line + "\n").encode("utf-8"))
    reader = sock.makefile("r", encoding="utf-8", errors="replace", newline="\n")
    shown = 0
    while shown < count:
        line = reader.readline()
        if not line:
            break
        match = re.search(r"(\S+(?: \(private\))?) >> (.*)$", line.rstrip("\n"))
        if match:
            print("%s >> %s" % (match.group(1), match.group(2)), flush=True)
            shown += 1
    sock.close()


if __name__ == "__main__":
    main()
