"""Run a command and print its peak resident memory in KiB (from wait4), then exit with
its exit code.

Measured from this small process on purpose: a process started straight from the big
test process (vfork and exec) inherits that process's memory high-water mark, so
wait4 there would report the test's memory, not the command's.
"""
import os
import sys

pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
