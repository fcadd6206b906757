#!/usr/bin/env bash
# Runs clang-tidy (the checks of .clang-tidy at the repository root, every
# finding an error) over roomq's translation units, with the compile commands
# of a CMake build directory.
#
#   check_tidy.sh BUILD_DIR --all        every .cc of ours in the build
#   check_tidy.sh BUILD_DIR [--changed]  only what a change touches: the .cc
#                                        files it changed, and for a changed
#                                        header the .cc of the same name
#
# The change is what lies between a base and HEAD: $ROOMQ_LINT_BASE when set;
# else the merge base with the upstream branch when HEAD is ahead of it;
# else the commit in tests/lint/tidy_base (the main a change started from,
# which is what a fresh clone of main, as in CI, has to go by) when it is an
# ancestor of HEAD; else the last $ROOMQ_LINT_COMMITS (default 20) commits.
# Debian 12's clang-tidy 14 is the reference. Parallelism: $ROOMQ_JOBS
# (default: cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: check_tidy.sh BUILD_DIR [--all|--changed]}
mode=${2:---changed}
build=$(cd "$build" && pwd)
tidy=${CLANG_TIDY:-clang-tidy-14}
command -v "$tidy" >/dev/null || { echo "check_tidy: $tidy not found (apt-get install clang-tidy)"; exit 1; }
[[ -f $build/compile_commands.json ]] || { echo "check_tidy: no $build/compile_commands.json"; exit 1; }
cd "$root"

# The .cc files of ours that the build compiles.
mapfile -t compiled < <(python3 - "$build/compile_commands.json" "$root" <<'EOF'
import json, os, sys
root = sys.argv[2] + "/"
seen = set()
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root) and not path.startswith(root + "build") and path.endswith(".cc"):
        rel = path[len(root):]
        if rel not in seen:
            seen.add(rel)
            print(rel)
EOF
)

files=()
if [[ $mode == --all ]]; then
  files=("${compiled[@]}")
else
  base=${ROOMQ_LINT_BASE:-}
  if [[ -z $base ]] && upstream=$(git rev-parse -q --verify '@{upstream}' 2>/dev/null) &&
     [[ $(git rev-parse HEAD) != "$upstream" ]]; then
    base=$(git merge-base HEAD "$upstream")
  fi
  if [[ -z $base ]]; then
    recorded=$(grep -v '^#' tests/lint/tidy_base 2>/dev/null | head -1 || true)
    if [[ -n $recorded ]] && git merge-base --is-ancestor "$recorded" HEAD 2>/dev/null; then
      base=$recorded
    fi
  fi
  if [[ -z $base ]]; then
    commits=${ROOMQ_LINT_COMMITS:-20}
    base=$(git rev-list --max-count=1 --skip="$commits" HEAD)
    [[ -n $base ]] || base=$(git hash-object -t tree /dev/null)  # shorter history: all of it
  fi
  declare -A wanted=()
  while IFS= read -r changed; do
    case $changed in
      *.cc) wanted[$changed]=1 ;;
      *.h) wanted[${changed%.h}.cc]=1 ;;
    esac
  done < <(git diff --name-only --diff-filter=d "$base" HEAD -- '*.cc' '*.h')
  for file in "${compiled[@]}"; do
    [[ -n ${wanted[$file]:-} ]] && files+=("$file")
  done
  echo "check_tidy: ${#files[@]} translation unit(s) changed since $(git rev-parse --short "$base")"
fi
((${#files[@]} > 0)) || { echo "check_tidy: nothing to check"; exit 0; }

jobs=${ROOMQ_JOBS:-$(nproc)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Our headers are checked through the files that include them; generated and
# third-party headers are not ours to fix. -Wthread-safety: clang checks the
# lock annotations (ABSL_GUARDED_BY, ...) the gcc compile commands leave
# unchecked; .clang-tidy lets its findings through.
filter="^$root/(broker|gateway|clients|tests|proto/(base|node|wire|websocket))/"
if ! printf '%s\0' "${files[@]}" |
    xargs -0 -n 4 -P "$jobs" "$tidy" -p "$build" --quiet --warnings-as-errors='*' \
      --extra-arg=-Wthread-safety --header-filter="$filter" >"$log" 2>&1; then
  grep -E '(warning|error):' "$log" | sort -u
  echo "check_tidy: findings above (.clang-tidy); the full output:"
  cat "$log"
  exit 1
fi
echo "check_tidy: ${#files[@]} translation unit(s) clean"
