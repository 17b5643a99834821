#!/usr/bin/env bash
# Builds .build-fuzz/fuzz-decoders: libFuzzer + AddressSanitizer over ClipImage (Swift) and the
# CJPEG/CPNG shims (C). Usage: Fuzz/build.sh   (called by `make fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
mkdir -p "$OUT/modules"
SAN=address
for shim in CJPEG CPNG; do
  lower=$(echo "$shim" | tr 'A-Z' 'a-z')
  mkdir -p "$OUT/modules/$shim"
  printf 'module %s {\n  header "%s"\n  export *\n}\n' "$shim" "$PWD/Sources/$shim/include/$lower.h" \
    > "$OUT/modules/$shim/module.modulemap"
  clang -O1 -g -fsanitize=fuzzer-no-link,$SAN -ISources/$shim/include -c "Sources/$shim/$lower.c" -o "$OUT/$lower.o"
done
SWIFTFLAGS=(-O -g -sanitize=fuzzer,$SAN -parse-as-library -swift-version 5 -I "$OUT" \
  -Xcc -fmodule-map-file="$OUT/modules/CJPEG/module.modulemap" \
  -Xcc -fmodule-map-file="$OUT/modules/CPNG/module.modulemap")
swiftc "${SWIFTFLAGS[@]}" -module-name ClipCore -wmo -emit-module -emit-module-path "$OUT/ClipCore.swiftmodule" \
  -c Sources/ClipCore/*.swift -o "$OUT/ClipCore.o"
swiftc "${SWIFTFLAGS[@]}" -module-name ClipImage -wmo -emit-module -emit-module-path "$OUT/ClipImage.swiftmodule" \
  -c Sources/ClipImage/*.swift -o "$OUT/ClipImage.o"
swiftc "${SWIFTFLAGS[@]}" -module-name FuzzDecoders Fuzz/FuzzDecoders.swift \
  "$OUT/ClipCore.o" "$OUT/ClipImage.o" "$OUT/cjpeg.o" "$OUT/cpng.o" -ljpeg -lpng16 -o "$OUT/fuzz-decoders" \
  2> >(grep -v "Cannot export local symbol" >&2)
echo "built $OUT/fuzz-decoders"
