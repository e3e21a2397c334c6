# PyInstaller runtime hook: runs first in the frozen probe.
#
# The shipped binary is a one-folder build inside staticx: staticx's (patched) loader
# unpacks it into $TMPDIR/staticx-locked-*, runs it, forwards every terminating signal
# to it, and removes that directory when it ends, also when the program dies of a
# signal (build/staticx/README.md). There sys._MEIPASS is the staticx directory and
# this hook only re-raises the signal (below), so the exit status is the signal's.
# SIGQUIT is handled too, so that it never leaves a core file in the working
# directory: the hook lowers RLIMIT_CORE to 0 before dying of it.
#
# A --no-staticx build is one-file: PyInstaller's parent unpacks the bundle into
# $TMPDIR/_MEIxxxxxx and removes it when the child (this Python) ends. When a service
# manager or a shell sends SIGTERM or SIGINT to the whole process group, the parent
# can receive the signal a second time after it has reset its handlers, and die
# before it removes the bundle: measured (with the earlier one-file-in-staticx
# layout), a group SIGTERM left _MEI* behind.
#
# So the child removes its own _MEI* bundle on SIGTERM, SIGINT, SIGHUP and SIGQUIT, then dies
# of the same signal (exit status as if it had no handler, e.g. 143 or 130 in a
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
    if signum == signal.SIGQUIT:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        except Exception:
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(_sig, _die_clean)
del _sig
