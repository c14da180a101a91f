#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{decoder,core}/).

Run from anywhere: python3 tests/fuzz/make_corpus.py. The files are committed; rerun this only
when the input formats of decoder_fuzz.cc or core_fuzz.cc change.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
T = {"CAN_DO": 1, "CANT_DO": 2, "RESET_ABILITIES": 3, "PRE_SLEEP": 4, "SUBMIT_JOB": 7,
     "GRAB_JOB": 9, "WORK_STATUS": 12, "WORK_COMPLETE": 13, "WORK_FAIL": 14, "GET_STATUS": 15,
     "ECHO_REQ": 16, "SUBMIT_JOB_BG": 18, "SUBMIT_JOB_HIGH": 21, "SET_CLIENT_ID": 22,
     "CAN_DO_TIMEOUT": 23, "WORK_EXCEPTION": 25, "OPTION_REQ": 26, "WORK_DATA": 28,
     "GRAB_JOB_UNIQ": 30, "SUBMIT_JOB_LOW": 33, "SUBMIT_JOB_SCHED": 35, "SUBMIT_JOB_EPOCH": 36,
     "SUBMIT_REDUCE_JOB": 37, "GRAB_JOB_ALL": 39, "GET_STATUS_UNIQUE": 41, "JOB_CREATED": 8}


def pkt(name, *parts, magic=b"\0REQ", type_=None):
    body = b"\0".join(p if isinstance(p, bytes) else p.encode() for p in parts)
    return magic + struct.pack(">II", T[name] if type_ is None else type_, len(body)) + body


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- decoder_fuzz: [flags][a][b b][seed x8][stream]
def dec(flags, stream, a=0, b=0, seed=0x0123456789ABCDEF):
    return bytes([flags, a]) + struct.pack(">HQ", b, seed) + stream


write("decoder", "canonical", dec(0, pkt("CAN_DO", "reverse") +
                                  pkt("SUBMIT_JOB", "reverse", "", "test") + b"status\n"))
write("decoder", "all_shapes", dec(0, pkt("SUBMIT_JOB_SCHED", "f", "u", "*/5", "*", "*", "*",
                                          "1-5", b"d\0ata") +
                                   pkt("SUBMIT_REDUCE_JOB", "f", "u", "red", "", "data") +
                                   pkt("ECHO_REQ", b"e\0c\0ho") +
                                   pkt("WORK_STATUS", "H:x:1", "1", "2") +
                                   pkt("JOB_CREATED", "H:x:1", magic=b"\0RES") +
                                   pkt("GRAB_JOB") + pkt("CAN_DO_TIMEOUT", "f", "1000")))
write("decoder", "admin_lines", dec(0, b"status\r\nworkers\nshow unique jobs\n"
                                    b"maxqueue f 1 2 3\ncancel job H:x:1\n\n show\r\n"))
write("decoder", "malformed", dec(0, pkt("ECHO_REQ", "x", type_=43) +
                                  pkt("SUBMIT_JOB", "f\0u"[:3]) +
                                  b"\0REQ\x00\x00\x00\x10\xff\xff\xff\xff"))
write("decoder", "bad_magic", dec(0, pkt("GRAB_JOB") + b"\0RXQ\0\0\0\x09\0\0\0\0"))
write("decoder", "small_limits", dec(1, pkt("ECHO_REQ", "0123456789") + b"a long admin line\n",
                                     a=20, b=8))
write("decoder", "cron", dec(2, b"*/5 1-3 13 * 5\n"))
write("decoder", "cron_leap", dec(2, b"0 0 29 2 *\n", seed=42))

# ---- core_fuzz: [options][ops...]; op = (session << 4) | what
def op_open(s, remote=False):
    return bytes([(s << 4) | 0 | (0x80 if remote else 0)])


def op_close(s):
    return bytes([(s << 4) | 1])


def op_raw(s, data):
    assert len(data) < 64, data
    return bytes([(s << 4) | 2, len(data)]) + data


ADMIN = ["status", "workers", "prioritystatus", "show jobs", "show unique jobs",
         "cancel job H:t:", "drop function f", "drop function g", "create function h",
         "maxqueue f 2", "maxqueue g 1 0 1", "maxqueue f", "getpid", "version", "verbose",
         "shutdown", "shutdown graceful", "", " status", "show foo", "cancel", "MAXQUEUE h -1"]


def op_admin(s, line, n=None, crlf=False):
    out = bytes([(s << 4) | 7, ADMIN.index(line) | (0x80 if crlf else 0)])
    if n is not None:
        out += bytes([n])
    return out


def op_advance(ms, minutes=False):
    return bytes([8 | (0x80 if minutes else 0)]) + struct.pack(">H", ms)


def op_next_timer():
    return bytes([9])


def op_grab(s):
    return bytes([(s << 4) | 11])


WALL = 1_700_000_000

write("core", "basic_flow", bytes([0]) + op_open(0) + op_open(1) +
      op_raw(1, pkt("CAN_DO", "f")) + op_raw(1, pkt("PRE_SLEEP")) +
      op_raw(0, pkt("SUBMIT_JOB", "f", "u", "data")) + op_grab(1) +
      op_raw(1, pkt("WORK_STATUS", "H:t:1", "1", "2")) +
      op_raw(1, pkt("WORK_COMPLETE", "H:t:1", "done")) + op_admin(2, "status"))
write("core", "timers", bytes([0]) + op_open(0) + op_open(1) +
      op_raw(0, pkt("SUBMIT_JOB_EPOCH", "f", "", str(WALL + 5), "later")) +
      op_raw(1, pkt("CAN_DO_TIMEOUT", "f", "1000")) + op_grab(1) + op_advance(5000) +
      op_grab(1) + op_advance(1000) + op_next_timer() + op_grab(1) + op_admin(3, "show jobs"))
write("core", "sched", bytes([0]) + op_open(0) + op_open(1, remote=True) +
      op_raw(0, pkt("SUBMIT_JOB_SCHED", "f", "u", "*/2", "*", "*", "*", "*", "d")) +
      op_raw(1, pkt("CAN_DO", "f")) + op_raw(1, pkt("PRE_SLEEP")) +
      op_advance(3, minutes=True) + op_grab(1) + op_advance(2, minutes=True) +
      op_admin(1, "cancel job H:t:", 1) + op_admin(1, "shutdown"))
write("core", "coalesce_cancel", bytes([0]) + op_open(0) + op_open(1) + op_open(2) +
      op_raw(0, pkt("SUBMIT_JOB", "f", "u", "x")) + op_raw(1, pkt("SUBMIT_JOB", "f", "u", "y")) +
      op_raw(1, pkt("SUBMIT_JOB_BG", "f", "-", "p")) + op_raw(2, pkt("CAN_DO", "f")) +
      op_grab(2) + op_close(0) + op_admin(3, "cancel job H:t:", 1) +
      op_raw(2, pkt("WORK_DATA", "H:t:1", "late")) + op_close(2) + op_admin(3, "show jobs"))
write("core", "retries", bytes([2]) + op_open(0) + op_open(1) +
      op_raw(0, pkt("SUBMIT_JOB_HIGH", "f", "", "x")) + op_raw(1, pkt("CAN_DO", "f")) +
      op_grab(1) + op_close(1) + op_open(1) + op_raw(1, pkt("CAN_DO", "f")) + op_grab(1))
write("core", "reduce_exceptions", bytes([0x10]) + op_open(0) + op_open(1) +
      op_raw(0, pkt("OPTION_REQ", "exceptions")) +
      op_raw(0, pkt("SUBMIT_REDUCE_JOB", "f", "u", "r", "", "d")) +
      op_raw(1, pkt("CAN_DO", "f")) + op_raw(1, pkt("GRAB_JOB_ALL")) +
      op_raw(1, pkt("WORK_EXCEPTION", "H:t:1", b"e\0x")) +
      op_raw(0, pkt("GET_STATUS", "H:t:1")) + op_raw(0, pkt("GET_STATUS_UNIQUE", "u")))
write("core", "admin_mix", bytes([0]) + op_open(4) +
      b"".join(op_admin(4, l) for l in ["workers", "maxqueue f 2", "create function h",
                                        "drop function g", "version", "", " status",
                                        "show foo", "cancel", "MAXQUEUE h -1"]) +
      op_raw(4, pkt("SET_CLIENT_ID", "my id")) + op_raw(4, pkt("ECHO_REQ", b"a\0b")) +
      op_raw(4, b"getpid\r\n") + op_raw(4, pkt("GRAB_JOB", magic=b"\0RES")))


def op_setup(s, what, fn=0, timeout=0):
    """what: 0 CAN_DO, 2 CAN_DO_TIMEOUT, 3 CANT_DO, 4 RESET_ABILITIES, 5 PRE_SLEEP."""
    return bytes([(s << 4) | 3, (timeout << 5) | (what << 2) | fn])


def op_submit(s, kind, fn=0, unique=0, data=1):
    """kind: 0-5 plain (normal, high, low, bg, high bg, low bg), 6 epoch, 7/8 reduce, 9 sched."""
    return bytes([(s << 4) | 4, (fn << 4) | kind, (data << 3) | unique])


def op_work(s, kind, held=0):
    """kind: 0 DATA, 1 WARNING, 2 STATUS, 3 COMPLETE, 4 FAIL, 5 EXCEPTION, on a held job."""
    return bytes([(s << 4) | 5, (held << 3) | kind])


def op_grab_kind(s, kind):
    return bytes([(s << 4) | 11, kind])


write("core", "sleep_with_job", bytes([4]) + op_setup(1, 0) + op_submit(0, 0) +
      op_grab_kind(1, 1) + op_setup(1, 5) + op_setup(2, 0) + op_setup(2, 5) + op_close(1) +
      op_grab_kind(2, 0) + op_work(2, 2) + op_work(2, 3))
write("core", "all_submits", bytes([0x10]) +
      b"".join(op_submit(0, k, fn=k % 2, unique=k % 5) for k in range(10)) +
      op_setup(1, 2, timeout=0) + b"".join(op_grab_kind(1, k % 3) for k in range(6)) +
      op_work(1, 5, 0) + op_work(1, 4, 1) + op_advance(1000) + op_next_timer() +
      op_advance(2, minutes=True) + op_close(0) + op_close(1))
