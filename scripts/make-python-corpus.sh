#!/usr/bin/env bash
# The second corpus of the language-model measurements (BENCHMARKS.md, "Language model quality"): Python source
# from Debian's libpython3.11-stdlib package, the top-level modules of /usr/lib/python3.11 (*.py directly in
# that folder, no packages, no tests), concatenated in byte order of their names, cut to the first 1 115 394
# characters (the size of Tiny Shakespeare). Prints the package version and the SHA-256 of the result.
# usage: scripts/make-python-corpus.sh OUTPUT
set -euo pipefail
output="${1:?usage: scripts/make-python-corpus.sh OUTPUT}"
library=/usr/lib/python3.11
if [ ! -f "$library/argparse.py" ]; then
  apt-get install -y --no-install-recommends libpython3.11-stdlib > /dev/null
fi
dpkg-query -W libpython3.11-stdlib
python3 - "$library" "$output" <<'PY'
import os, sys
library, output = sys.argv[1], sys.argv[2]
names = sorted((n for n in os.listdir(library) if n.endswith(".py")), key=lambda n: n.encode())
text = "".join(open(os.path.join(library, n), encoding="utf-8").read() for n in names)[:1115394]
tmp = output + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
os.replace(tmp, output)
print(f"{len(names)} modules, {len(text)} characters, {len(set(text))} distinct")
PY
sha256sum "$output"
