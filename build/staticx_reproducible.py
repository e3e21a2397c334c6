"""Run staticx with every archive member's mtime clamped to SOURCE_DATE_EPOCH.

staticx writes the files it generates (its copy of the program, libnssfix, links)
into a tar archive with their build-time mtimes, which made two builds of one commit
differ in a few bytes. Usage: python staticx_reproducible.py [staticx arguments]
"""

import os
import sys
import tarfile

epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
_gettarinfo = tarfile.TarFile.gettarinfo


def _clamped(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    info = _gettarinfo(self, *args, **kwargs)
    if info is not None:
        info.mtime = min(int(info.mtime), epoch)
    return info


tarfile.TarFile.gettarinfo = _clamped  # type: ignore[method-assign]

from staticx.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
