"""What happens to the files of a directory, from inotify(7) (ctypes, no package needed).

Used to tell an atomic writer (a temporary file renamed over the target:
the target's only event is IN_MOVED_TO) from one that writes the target in
place (IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE on the target itself).
"""
import ctypes
import os
import struct

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_NONBLOCK = 0o4000
WRITES_IN_PLACE = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class DirWatch:
    def __init__(self, path):
        self.fd = _libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self.fd, os.fsencode(path), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
                                   IN_CREATE) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")

    def events(self):
        """[(name, mask)] since the last call."""
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            off = 0
            while off < len(buf):
                _, mask, _, size = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + size].rstrip(b"\0").decode("utf-8", "replace")
                out.append((name, mask))
                off += 16 + size

    def close(self):
        os.close(self.fd)
