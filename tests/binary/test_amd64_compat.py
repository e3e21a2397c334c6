"""The amd64 binary on systems other than the builder's, and its CA store lookup.

* inside a Debian bullseye root made by debootstrap (glibc 2.31, no python3),
  trusting a wss:// CSMS only through that system's CA store;
* inside roots holding nothing but the binary and a CA bundle at the Alpine,
  RHEL or Debian path (no libc at all: the binary is self-contained);
* the glibc symbol versions its bundled files need (build/glibc_report.py).
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ocpp_probe.demo import DemoCsms

from ..peers.loopback import TlsFront
from ..support.binaries import REPO, BinaryRun
from ..support.pki import Pki


@pytest.fixture(scope="session")
def bullseye_root() -> Path:
    """build/rootfs.sh reuses the cached root (ci-binaries.sh makes it first in CI)."""
    out = subprocess.run(
        ["bash", str(REPO / "build" / "rootfs.sh"), "test-bullseye"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(out.strip().splitlines()[-1])


def run_in_root(
    root: Path, binary: Path, args: list[str], env: dict[str, str], ca_bundle: Path, ca_path: str
) -> BinaryRun:
    """Run the binary chrooted in ``root`` with ``ca_bundle`` mounted at ``ca_path``,
    in a private mount namespace (the mounts vanish with it)."""
    script = r"""
set -e
root="$1"; binary="$2"; bundle="$3"; ca_path="$4"; shift 4
mkdir -p "$root/usr/local/bin" "$root/proc" "$root/tmp" "$root/$(dirname "$ca_path")"
touch "$root/usr/local/bin/ocpp-probe" "$root/$ca_path"
mount --bind "$binary" "$root/usr/local/bin/ocpp-probe"
mount --bind "$bundle" "$root/$ca_path"
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/tmp"
rc=0
chroot "$root" /usr/local/bin/ocpp-probe "$@" || rc=$?
left=$(ls -A "$root/tmp" | tr '\n' ' ')
echo "LEFTOVERS:$left" >&2
exit $rc
"""
    full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": "/tmp", "LANG": "C", **env}
    proc = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/bash",
            "-c",
            script,
            "sh",
            str(root),
            str(binary),
            str(ca_bundle),
            ca_path,
            *args,
        ],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    left_line = [ln for ln in proc.stderr.splitlines() if ln.startswith("LEFTOVERS:")]
    assert left_line, proc.stderr
    leftovers = left_line[-1][len("LEFTOVERS:") :].split()
    return BinaryRun(proc.returncode, proc.stdout, proc.stderr, leftovers)


def test_bullseye_root_has_old_glibc_and_no_python(bullseye_root: Path) -> None:
    assert glob.glob(str(bullseye_root / "lib/x86_64-linux-gnu/libc-2.31.so"))
    assert not glob.glob(str(bullseye_root / "usr/bin/python*"))


def test_demo_in_bullseye(bullseye_root: Path, amd64_binary: Path, pki: Pki) -> None:
    r = run_in_root(
        bullseye_root, amd64_binary, ["--demo"], {}, Path(pki.ca_file), "etc/ssl/certs/ca-certificates.crt"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted")
    assert r.leftovers == []


@pytest.mark.parametrize(
    "trusted", [True, False], ids=["test-CA-in-store", "store-without-test-CA"]
)
def test_wss_trusted_through_bullseye_system_store(
    bullseye_root: Path, amd64_binary: Path, demo_csms: DemoCsms, pki: Pki, trusted: bool, tmp_path: Path
) -> None:
    if trusted:
        bundle = Path(pki.ca_file)
    else:
        bundle = tmp_path / "store.pem"  # the root's real Debian store, which lacks the test CA
        shutil.copy(bullseye_root / "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", bundle)
    with TlsFront(pki.server_context(), demo_csms.address) as front:
        r = run_in_root(
            bullseye_root,
            amd64_binary,
            ["--json"],
            {"WS_URL": front.url(host="127.0.0.1")},
            bundle,
            "etc/ssl/certs/ca-certificates.crt",
        )
    doc = json.loads(r.stdout)
    if trusted:
        assert (r.returncode, doc["verdict"], doc["failed_step"]) == (0, "OK", None), r.stdout
    else:
        assert (r.returncode, doc["failed_step"]) == (2, "tls")
        assert doc["reason"].startswith("server certificate not trusted")
    assert r.leftovers == []


@pytest.mark.parametrize(
    "ca_path",
    ["etc/ssl/cert.pem", "etc/pki/tls/certs/ca-bundle.crt", "etc/ssl/certs/ca-certificates.crt"],
    ids=["alpine", "rhel", "debian"],
)
def test_wss_in_empty_root_with_only_a_ca_bundle(
    amd64_binary: Path, demo_csms: DemoCsms, pki: Pki, ca_path: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with TlsFront(pki.server_context(), demo_csms.address) as front:
        r = run_in_root(
            root,
            amd64_binary,
            ["--json"],
            {"WS_URL": front.url(host="127.0.0.1")},
            Path(pki.ca_file),
            ca_path,
        )
    doc = json.loads(r.stdout)
    assert not (root / "lib").exists() and not (root / "usr/lib").exists()
    assert (r.returncode, doc["verdict"]) == (0, "OK"), r.stdout + r.stderr
    assert doc["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert r.leftovers == []


def test_glibc_report(amd64_binary: Path) -> None:
    """The shipped binary is static (no ELF interpreter); everything inside needs at
    most the glibc that staticx bundles with it."""
    headers = subprocess.run(
        ["readelf", "-l", str(amd64_binary)], capture_output=True, text=True, check=True
    ).stdout
    assert "Requesting program interpreter" not in headers
    venv_python = REPO / "build" / "_work" / "amd64" / "venv" / "bin" / "python"
    assert venv_python.exists(), "build venv missing: run build/build.sh"
    out = subprocess.run(
        [str(venv_python), str(REPO / "build" / "glibc_report.py"), str(amd64_binary), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    doc = json.loads(out)
    print(json.dumps({k: v for k, v in doc.items() if k != "per_file"}))
    assert doc["staticx_wrapped"] is True

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split("_", 1)[1].split("."))

    assert version(doc["max_glibc_needed_by_bundled_files"]) <= version(doc["bundled_glibc"])
    assert "libpython3.11.so.1.0" in doc["per_file"]
