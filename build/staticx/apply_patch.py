"""Apply a unified diff exactly (no fuzz, no offset guessing) to a source tree.

    python apply_patch.py PATCH TREE

Used by build/staticx/build_loader.sh instead of patch(1), which the Debian build
roots (debootstrap minbase) do not have. Every hunk's context and removed lines must
match the file at the stated line, else it stops with an error: a changed staticx
source is noticed at once instead of being patched wrongly.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply(patch_text: str, tree: Path) -> list[str]:
    lines = patch_text.splitlines(keepends=True)
    changed: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("--- "):
            i += 1
            continue
        target = lines[i + 1][4:].split("\t")[0].strip()
        i += 2
        path = tree / target
        old = path.read_text().splitlines(keepends=True) if path.exists() else []
        new: list[str] = []
        pos = 0  # next line of `old` not yet copied
        while i < len(lines) and lines[i].startswith("@@"):
            match = HUNK.match(lines[i])
            if not match:
                raise SystemExit(f"apply_patch: bad hunk header in {target}: {lines[i]!r}")
            start = max(int(match.group(1)) - 1, 0) if match.group(2) != "0" else int(match.group(1))
            # The header's line counts say where the hunk ends ("--- " may be a removal).
            old_left = int(match.group(2) or 1)
            new_left = int(match.group(4) or 1)
            new += old[pos:start]
            pos = start
            i += 1
            while old_left or new_left:
                tag, text = lines[i][:1], lines[i][1:]
                old_left -= tag in (" ", "-")
                new_left -= tag in (" ", "+")
                if tag in (" ", "-"):
                    if pos >= len(old) or old[pos] != text:
                        raise SystemExit(f"apply_patch: {target}:{pos + 1} does not match the patch")
                    if tag == " ":
                        new.append(text)
                    pos += 1
                elif tag == "+":
                    new.append(text)
                i += 1
        new += old[pos:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(new))
        changed.append(target)
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    done = apply(Path(sys.argv[1]).read_text(), Path(sys.argv[2]))
    print("apply_patch: patched " + ", ".join(done))
