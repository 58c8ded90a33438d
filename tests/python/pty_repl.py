"""Type lines into a program at a pseudo-terminal, one per prompt, as a person would.

    python3 pty_repl.py PROMPT PROGRAM [ARG...] < lines

Each line of standard input is sent once the previous one was answered: a line break was
shown, and the output (terminal control sequences aside) ends with a fresh PROMPT. A line
editor drops input typed before it is ready. Keep the program's own logging quiet: a log
line after the prompt hides it. Everything the program
writes is copied to standard output; the exit status is the program's. Standard library
only, so `cargo test` needs nothing but python3.
"""

import os
import pty
import re
import select
import sys

TIMEOUT = 30.0

CONTROL = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def answered(prompt):
    """Whether `out`, the output since a line was typed, shows it answered: the line
    editor only writes a line break once the line was entered, and a fresh prompt is the
    last thing on the screen (while typing, text follows the prompt in the same write)."""

    def check(out):
        text = CONTROL.sub(b"", out)
        return b"\n" in text and text.rstrip(b" \r").endswith(prompt.rstrip(b" "))

    return check


def main():
    prompt = sys.argv[1].encode()
    lines = sys.stdin.read().splitlines()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    seen = b""

    def read_until(done):
        nonlocal seen
        while not done(seen):
            ready, _, _ = select.select([fd], [], [], TIMEOUT)
            if not ready:
                sys.exit(f"pty_repl: timed out waiting; output so far: {seen!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                return False
            sys.stdout.buffer.write(chunk)
            seen += chunk
        return True

    read_until(lambda out: prompt in out)
    for line in lines:
        seen = b""
        os.write(fd, line.encode() + b"\r")
        if not read_until(answered(prompt)):
            break
    seen = b""
    read_until(lambda out: False)
    _, status = os.waitpid(pid, 0)
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
