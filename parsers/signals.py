"""Linux signal names and numbers, one table for every reader that reports a death by a signal."""
from __future__ import annotations

# Linux signal numbers, for attrs.status of a signal death (as systemd gives status=9/KILL)
SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
           "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
           "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
           "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30,
           "SYS": 31}
SIGNAL_NAMES = {n: s for s, n in reversed(SIGNALS.items())}   # 6 -> ABRT (not IOT), 17 -> CHLD
# signals whose default action ends a process without a core dump ("killed"; the others: "dumped")
NO_CORE = {"HUP", "INT", "KILL", "USR1", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
           "TTIN", "TTOU", "URG", "VTALRM", "PROF", "WINCH", "IO", "PWR"}
