#!/usr/bin/env bash
# Builds .build-fuzz/fuzz-decoders: libFuzzer + AddressSanitizer over ClipImage (Swift) and the
# CJPEG/CPNG/CGIF/CWEBP/CTIFF shims (C, over the system libraries). Usage: Fuzz/build.sh   (called by `make fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
mkdir -p "$OUT/modules"
SAN=address
SHIMS=(CJPEG CPNG CGIF CWEBP CTIFF)
for shim in "${SHIMS[@]}"; do
  lower=$(echo "$shim" | tr 'A-Z' 'a-z')
  mkdir -p "$OUT/modules/$shim"
  printf 'module %s {\n  header "%s"\n  export *\n}\n' "$shim" "$PWD/Sources/$shim/include/$lower.h" \
    > "$OUT/modules/$shim/module.modulemap"
  clang -O1 -g -fsanitize=fuzzer-no-link,$SAN -ISources/$shim/include -c "Sources/$shim/$lower.c" -o "$OUT/$lower.o"
done
SWIFTFLAGS=(-O -g -sanitize=fuzzer,$SAN -parse-as-library -swift-version 5 -I "$OUT")
for shim in "${SHIMS[@]}"; do SWIFTFLAGS+=(-Xcc -fmodule-map-file="$OUT/modules/$shim/module.modulemap"); done
swiftc "${SWIFTFLAGS[@]}" -module-name ClipCore -wmo -emit-module -emit-module-path "$OUT/ClipCore.swiftmodule" \
  -c Sources/ClipCore/*.swift -o "$OUT/ClipCore.o"
swiftc "${SWIFTFLAGS[@]}" -module-name ClipImage -wmo -emit-module -emit-module-path "$OUT/ClipImage.swiftmodule" \
  -c Sources/ClipImage/*.swift -o "$OUT/ClipImage.o"
swiftc "${SWIFTFLAGS[@]}" -module-name FuzzDecoders Fuzz/FuzzDecoders.swift \
  "$OUT/ClipCore.o" "$OUT/ClipImage.o" "$OUT/cjpeg.o" "$OUT/cpng.o" "$OUT/cgif.o" "$OUT/cwebp.o" "$OUT/ctiff.o" \
  -ljpeg -lpng16 -lgif -lwebpdemux -lwebp -ltiff -o "$OUT/fuzz-decoders" \
  2> >(grep -v "Cannot export local symbol" >&2)
echo "built $OUT/fuzz-decoders"
