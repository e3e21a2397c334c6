"""A throw-away copy of a pristine minimal Debian root, for installing the .deb into.

The pristine root (build/rootfs.sh deb-test: debootstrap --variant=minbase plus
systemd, cached in OCPP_PROBE_CACHE) is never written to: each DebRoot is an
overlay on it whose upper directory, in the test's tmp_path, collects every change
the package makes, so "what did install or purge leave behind" is a directory
listing. Each command runs chrooted in a private mount namespace in which the
overlay, /proc, /sys, /dev, /run and /tmp are mounted; they vanish with the namespace,
whatever happens, and nothing is ever mounted under the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..support.binaries import DEB_ARCH, REPO

_MOUNT_AND_RUN = r"""
set -e
lower="$1"; top="$2"; shift 2
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$top/upper,workdir=$top/work" "$top/merged"
m="$top/merged"
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
mount --rbind /sys "$m/sys"   # bullseye's systemd-analyze wants its cgroup
# /run and /tmp are tmpfs on a device. On a 64-bit host, qemu-arm cannot list
# ext4 directories for a 32-bit program (see tests/support/binaries.tmp_root_for).
mount -t tmpfs tmpfs "$m/run"
mount -t tmpfs tmpfs "$m/tmp"
if [ -d "$top/in" ]; then cp -a "$top/in/." "$m/tmp/"; fi
exec chroot "$m" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
    /bin/sh -c "$@"
"""


def pristine_root(suite: str, arch: str) -> Path:
    out = subprocess.run(
        ["bash", str(REPO / "build" / "rootfs.sh"), "deb-test", suite, DEB_ARCH[arch]],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OCPP_PROBE_CACHE": os.environ.get("OCPP_PROBE_CACHE", str(REPO / "build" / "cache"))},
    ).stdout
    return Path(out.strip().splitlines()[-1])


class DebRoot:
    def __init__(self, lower: Path, top: Path) -> None:
        self.lower = lower
        self.top = top
        for name in ("upper", "work", "merged", "in"):
            (top / name).mkdir(parents=True)

    @property
    def upper(self) -> Path:
        return self.top / "upper"

    def put(self, path: Path) -> str:
        """Make ``path`` appear as /tmp/NAME in every later command; returns that path."""
        shutil.copy(path, self.top / "in" / path.name)
        return f"/tmp/{path.name}"

    def sh(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "--", "/bin/bash", "-c", _MOUNT_AND_RUN,
             "sh", str(self.lower), str(self.top), command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, command: str, timeout: float = 300) -> str:
        proc = self.sh(command, timeout)
        assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def changes(self) -> set[str]:
        """Every file created, changed or deleted, and every directory created, in the root."""
        found = set()
        for path in self.upper.rglob("*"):
            rel = path.relative_to(self.upper)
            if path.is_dir() and not path.is_symlink() and (self.lower / rel).is_dir():
                continue  # a directory of the pristine root, with changes inside it
            found.add(f"/{rel}")
        return found

    def present(self, paths: list[str]) -> list[str]:
        """Those of ``paths`` that exist in the root now (symbolic links included)."""
        quoted = " ".join(f"'{p}'" for p in paths)
        return self.ok(f'for p in {quoted}; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done').split()
