#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format makes of it
# (.clang-format at the repository root). Prints each such file and the
# command that fixes it. Debian 12's clang-format (14) is the reference:
# another version may format a few constructs differently.
set -euo pipefail
cd "$(dirname "$0")/../.."
format=${CLANG_FORMAT:-clang-format}
command -v "$format" >/dev/null || { echo "check_format: $format not found (apt-get install clang-format)"; exit 1; }
bad=()
while IFS= read -r -d '' file; do
  "$format" --style=file "$file" | cmp -s - "$file" || bad+=("$file")
done < <(git ls-files -z '*.cc' '*.h')
if ((${#bad[@]} > 0)); then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "fix: clang-format -i ${bad[*]}"
  exit 1
fi
echo "check_format: every tracked C++ file is formatted"
