# PyInstaller runtime hook: runs first in the frozen probe (the one-file child).
#
# A one-file binary is three processes: staticx's loader, PyInstaller's parent
# (which unpacked the bundle into $TMPDIR/_MEIxxxxxx and removes it when the child
# ends) and this Python child. When a service manager or a shell sends SIGTERM or
# SIGINT to the whole process group, the parent can receive the signal a second
# time (forwarded by staticx) after it has reset its handlers, and die before it
# removes the bundle: measured, a group SIGTERM left _MEI* behind.
#
# So the child removes its own bundle on SIGTERM, SIGINT and SIGHUP, then dies of
# the same signal (exit status as if it had no handler, e.g. 143 or 130 in a
# shell). Files still mapped by this process may be unlinked safely on Linux.
import os
import signal
import sys


def _remove_tree(path):
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _die_clean(signum, frame):
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and os.path.basename(bundle).startswith("_MEI"):
        _remove_tree(bundle)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _die_clean)
del _sig
