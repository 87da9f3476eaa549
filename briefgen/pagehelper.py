"""A helper process that writes, hashes and self-checks a large HTML page on the other
core while the build is still rendering it.

A large case's HTML build is one long run of Python on one core: load, view, render.
Writing the page, hashing it and self-checking it (a tenth of the time at 1000x) need
nothing of that run but the page's bytes, so a helper does them beside it. The helper
is *started*, not forked: it shares no memory with the build (a fork would, until the
build's reference counting copied every page of it), and it starts while the facts
load, so it is ready when the first piece comes.

The wire, on the helper's stdin: frames of one kind byte, a length (8 bytes, big
endian) and that many bytes:

* ``P``: a page begins; the payload is the path of the temporary file to write (it
  exists: :class:`~briefgen.output.AtomicFile` made it);
* ``D``: the page's next piece, UTF-8 (each piece whole, so each decodes alone);
* ``E``: the page is complete.

After each ``E`` the helper writes one JSON line on its stdout: ``{"sha256": ...,
"problems": [...]}``, or ``{"error": ...}`` if the file could not be written. It
writes and fsyncs the file; the build puts it in place (:meth:`AtomicFile.commit`).
The self-check is :class:`~briefgen.selfcheck.HtmlCheck`, fed the same pieces, so the
verdict is the one a check in the build would give.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any, BinaryIO

from .errors import OutputError

MIN_CASE_BYTES = 4 * 1024 * 1024
"""Fact files (bytes of YAML) from which a case's HTML pages are written by the helper.
The default case (about 0.1 MiB of YAML, a 0.5 MB page) gains nothing from it; at
100x (12 MiB, a 42 MB page) the helper takes 0.15 s off the build."""

SYNC_EVERY = 64 * 1024 * 1024
"""Bytes of a page written between two syncs to disk (the last sync, before the page is
put in place, then has little left to write)."""

_HEADER = 9
_PIPE_BYTES = 1 << 20


class HelperFailed(Exception):
    """The helper stopped or misbehaved; the page it was writing is lost (never put in place)."""


class PageHelper:
    """The build's end of the helper (see the module doc)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._stdin = process.stdin
        self._in = process.stdin.fileno()
        self._out: IO[bytes] = process.stdout
        self._page: Path | None = None

    @classmethod
    def start(cls) -> PageHelper | None:
        """A started helper, or None where none can be started (then the build writes
        and checks its pages itself)."""
        if not sys.executable:
            return None
        package_root = str(Path(__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "briefgen.pagehelper"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                env=env,
            )
        except OSError:
            return None
        assert process.stdin is not None
        with contextlib.suppress(OSError, AttributeError):  # a larger pipe (Linux): fewer waits
            import fcntl

            fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        return cls(process)

    def begin(self, tmp: Path) -> None:
        """Start a page, to be written to ``tmp`` (which exists)."""
        self._page = tmp
        self._frame(b"P", os.fsencode(tmp))

    def send(self, data: bytes) -> None:
        """The page's next piece (the UTF-8 of one whole piece of text)."""
        self._frame(b"D", data)

    def finish(self) -> tuple[str, list[str]]:
        """End the page: its sha256 and its self-check's problems, once the helper has
        written and fsynced it. Raises OutputError if the helper could not write it,
        HelperFailed if the helper stopped."""
        self._frame(b"E", b"")
        line = self._out.readline()
        try:
            reply = json.loads(line)
        except ValueError:
            raise HelperFailed(f"the page helper stopped (exit status {self.process.poll()})") from None
        if "error" in reply:
            raise OutputError(f"{self._page}: cannot write: {reply['error']}")
        return str(reply["sha256"]), [str(p) for p in reply["problems"]]

    def _frame(self, kind: bytes, data: bytes) -> None:
        try:
            _write_all(self._in, kind + len(data).to_bytes(8, "big"))
            if data:
                _write_all(self._in, data)
        except OSError as exc:
            raise HelperFailed(f"the page helper stopped ({exc.strerror})") from None

    def close(self) -> None:
        """Stop the helper (at once if a page is unfinished: that page is being abandoned)."""
        with contextlib.suppress(OSError):
            self._stdin.close()  # (its file object closes the descriptor: never twice)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The helper's loop: pages in, one verdict line out per page, until stdin ends."""
    from .selfcheck import HtmlCheck

    fh: Any = None
    while True:
        try:
            header = _read_exact(stdin, _HEADER)
            kind, size = header[:1], int.from_bytes(header[1:], "big")
            data = _read_exact(stdin, size) if size else b""
        except EOFError:  # the build is done (or gave up on a page: its file is gone)
            if fh is not None:
                fh.close()
            return
        if kind == b"P":
            check, digest, error, unsynced = HtmlCheck(), hashlib.sha256(), None, 0
            try:
                fh = open(os.fsdecode(data), "r+b")  # noqa: SIM115 - closed at "E" or on an error
                fh.truncate()
            except OSError as exc:
                error, fh = exc.strerror or str(exc), None
        elif kind == b"D":
            if fh is not None:
                try:
                    fh.write(data)
                    unsynced += len(data)
                    if unsynced >= SYNC_EVERY:  # to disk as it comes, not all at the end
                        fh.flush()
                        os.fdatasync(fh.fileno())
                        unsynced = 0
                except OSError as exc:
                    error = exc.strerror or str(exc)
                    fh.close()
                    fh = None
            digest.update(data)
            check.feed(data.decode("utf-8"))
        elif kind == b"E":
            if fh is not None:
                try:
                    fh.flush()
                    os.fsync(fh.fileno())
                except OSError as exc:
                    error = exc.strerror or str(exc)
                finally:
                    fh.close()
                    fh = None
            reply = {"error": error} if error else {"sha256": digest.hexdigest(), "problems": check.problems()}
            stdout.write(json.dumps(reply).encode() + b"\n")
            stdout.flush()
        else:
            raise SystemExit(f"briefgen page helper: unknown frame {kind!r}")


def main() -> None:
    # Ctrl-C reaches the whole process group: the build handles it; the helper simply
    # ends when its stdin closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    os._exit(0)  # (nothing left to free one object at a time: the build waits for this exit)


if __name__ == "__main__":
    main()
