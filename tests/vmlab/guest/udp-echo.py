"""UDP echo for the lab's real servers: answers '<hostname> <payload>' from the address the
datagram was sent to (IP_PKTINFO), so replies to a VIP come from the VIP, as in DR and TUN."""
import socket
import struct
import sys

IP_PKTINFO = 8  # Linux; Python 3.11 lacks the constant
port = int(sys.argv[1])
name = socket.gethostname().encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
s.bind(("0.0.0.0", port))
while True:
    data, anc, _flags, peer = s.recvmsg(2048, socket.CMSG_SPACE(12))
    dst = None
    for level, kind, value in anc:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            _ifindex, _spec, dst = struct.unpack("=I4s4s", value[:12])
    reply = name + b" " + data
    if dst is None:
        s.sendto(reply, peer)
    else:
        s.sendmsg([reply], [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=I4s4s", 0, dst, b"\0" * 4))], 0, peer)
