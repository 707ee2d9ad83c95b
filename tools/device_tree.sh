#!/usr/bin/env bash
# Slim the working tree that the `device` tool copies to a GPU machine, and restore it afterwards.
#
#   tools/device_tree.sh slim [PATH...]   # untrack (git rm --cached) and exclude what GPU runs never read, plus PATHs
#   tools/device_tree.sh restore          # track and un-exclude them again (run it before any commit)
#   tools/device_tree.sh size             # bytes the device tool would copy from the tree (tracked files)
#
# Why: the tool copies the tracked files plus the carried paths, 64 MiB in all; the tree is ~80 MB. GPU runs need the
# package, its testbeds, judges and tiny-sd (speed.py reads its tokenizer), bench/ and tools/, not the notebooks,
# results, docs assets or the other tiny pipelines. Slimmed, the tree is ~53 MB with all three testbeds, which leaves just enough
# room (65 MB in all) to carry the wheels (.carry/whl, 6.5 MB) and the bench's Fashion-MNIST subset (.carry/fmnist, 5.5 MB). Training
# needs the full train split (.carry/fmnist_full, 31 MB): slim the testbeds it does not read as well, e.g.
#   tools/device_tree.sh slim cfg_guidance/models/flow cfg_guidance/models/wellfit/diffusion_pytorch_model.safetensors
# Nothing may be committed while slimmed: the removals are staged. `slim` refuses when other changes are staged.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
STATE=.git/device_slim
DEFAULT="nbs bench/results docs_assets cfg_guidance/models/tiny-sd2 cfg_guidance/models/tiny-sdxl cfg_guidance/models/tiny-sd3 cfg_guidance/models/tiny-flux"
size() { git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1; }
case "${1:-}" in
  slim)
    [ -e "$STATE" ] && { echo "already slimmed ($(cat $STATE)); run: tools/device_tree.sh restore" >&2; exit 1; }
    git diff --cached --quiet || { echo "changes are staged: commit or unstage them first" >&2; exit 1; }
    shift; paths="$DEFAULT $*"
    for p in $paths; do
      [ -e "$p" ] || { echo "no such path: $p" >&2; exit 1; }
    done
    echo "$paths" > "$STATE"
    for p in $paths; do git rm -r -q --cached -- "$p"; echo "/$p" >> .git/info/exclude; done
    echo "slimmed: $(size) bytes tracked (carried paths count on top; 64 MiB = 67108864 in all)";;
  restore)
    [ -e "$STATE" ] || { echo "not slimmed"; exit 0; }
    paths=$(cat "$STATE")
    for p in $paths; do git reset -q -- "$p"; done
    python3 - "$paths" <<'EOF'
import sys
drop = {'/' + p for p in sys.argv[1].split()}
fn = '.git/info/exclude'; lines = open(fn).read().splitlines()
open(fn, 'w').write('\n'.join(l for l in lines if l not in drop) + '\n')
EOF
    rm -f "$STATE"; echo "restored: $(size) bytes tracked"; git status --short | head -5;;
  size) echo "$(size) bytes tracked";;
  *) sed -n 2,14p "$0"; exit 2;;
esac
