#!/usr/bin/env python3
"""UUID → lead TypeID (lead_ + 26-char Crockford base32), for bench scripts: python3 typeid.py <uuid>."""
import sys, uuid
A = "0123456789abcdefghjkmnpqrstvwxyz"
n = uuid.UUID(sys.argv[1]).int
print("lead_" + "".join(A[(n >> (5 * (25 - i))) & 31] for i in range(26)))
