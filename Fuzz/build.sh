#!/usr/bin/env bash
# Builds the libFuzzer + AddressSanitizer targets into .build-fuzz/fuzz-<target>: each library module is
# compiled once (swiftc -sanitize=fuzzer,address, whole-module), each C shim with clang, and each target
# links the modules it needs with its entry file(s) under Fuzz/. A module or shim is rebuilt only when a
# source is newer than its object. Usage: Fuzz/build.sh [target...]   (called by `make fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
SAN=address
mkdir -p "$OUT/modules"
ALL_TARGETS=(decoders safetensors hdf5 npy annoy multipart tokenizer)
TARGETS=("${@:-${ALL_TARGETS[@]}}")

# stale OUTPUT INPUT...: true if OUTPUT is missing or older than any INPUT.
stale() {
  local out=$1 in; shift
  [ -e "$out" ] || return 0
  for in in "$@"; do  # linker flags (-l...) are not files
    [[ $in == -* ]] && continue
    [ -n "$(find "$in" -newer "$out" | head -1)" ] && return 0
  done
  return 1
}

MAPS=()
shim() {  # shim NAME [CFLAGS...]: compiles Sources/NAME/<name>.c and writes a modulemap for its header
  local name=$1 lower; shift
  lower=$(echo "$name" | tr 'A-Z' 'a-z')
  mkdir -p "$OUT/modules/$name"
  printf 'module %s {\n  header "%s"\n  export *\n}\n' "$name" "$PWD/Sources/$name/include/$lower.h" \
    > "$OUT/modules/$name/module.modulemap"
  MAPS+=(-Xcc -fmodule-map-file="$OUT/modules/$name/module.modulemap")
  if stale "$OUT/$lower.o" "Sources/$name" "$0"; then
    clang -O1 -g -fsanitize=fuzzer-no-link,$SAN "$@" -ISources/$name/include -c "Sources/$name/$lower.c" -o "$OUT/$lower.o"
  fi
}
shim CJPEG
shim CPNG
shim CGIF
shim CWEBP
shim CTIFF
shim CHDF5 -I/usr/include/hdf5/serial
shim CKernels

SWIFTFLAGS=(-O -g -sanitize=fuzzer,$SAN -parse-as-library -swift-version 5 -I "$OUT" "${MAPS[@]}")
module() {  # module NAME "UPSTREAM INPUTS" [SWIFTFLAGS...]: Sources/NAME/*.swift → $OUT/NAME.o + .swiftmodule
  local name=$1 upstream=$2; shift 2
  # shellcheck disable=SC2086
  if stale "$OUT/$name.o" "Sources/$name" "$0" $upstream; then
    echo "compiling $name" >&2
    swiftc "${SWIFTFLAGS[@]}" "$@" -module-name "$name" -wmo -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
      -c Sources/"$name"/*.swift -o "$OUT/$name.o"
    touch "$OUT/$name.o"  # swiftc leaves an unchanged object's time alone, which would keep it stale
  fi
}
module ClipCore ""
module ClipImage "$OUT/ClipCore.o Sources/CJPEG Sources/CPNG Sources/CGIF Sources/CWEBP Sources/CTIFF"
module ClipWeights "$OUT/ClipCore.o Sources/CHDF5 Sources/CKernels"
module ClipTokenizer "$OUT/ClipCore.o"
module AnnoyIndex "$OUT/ClipCore.o" -target-cpu haswell  # as in Package.swift: SIMD16 FMAs

# link TARGET "SWIFT SOURCES" "OBJECTS AND LIBRARIES"
link() {
  local target=$1 sources=$2 objects=$3 name
  name=Fuzz$(echo "${target:0:1}" | tr a-z A-Z)${target:1}
  # shellcheck disable=SC2086
  if stale "$OUT/fuzz-$target" $sources $objects "$0"; then
    # shellcheck disable=SC2086
    swiftc "${SWIFTFLAGS[@]}" -module-name "$name" $sources $objects -o "$OUT/fuzz-$target" \
      2> >(grep -v "Cannot export local symbol" >&2)
  fi
  echo "built $OUT/fuzz-$target"
}
SUPPORT=Fuzz/FuzzSupport.swift
WEIGHTS_OBJ="$OUT/ClipCore.o $OUT/ClipWeights.o $OUT/chdf5.o $OUT/ckernels.o -lhdf5_serial"
for t in "${TARGETS[@]}"; do
  case $t in
    decoders)    link decoders "Fuzz/FuzzDecoders.swift" "$OUT/ClipCore.o $OUT/ClipImage.o $OUT/cjpeg.o $OUT/cpng.o $OUT/cgif.o $OUT/cwebp.o $OUT/ctiff.o -ljpeg -lpng16 -lgif -lwebpdemux -lwebp -ltiff" ;;
    safetensors) link safetensors "$SUPPORT Fuzz/WeightsSeeds.swift Fuzz/FuzzSafetensors.swift" "$WEIGHTS_OBJ" ;;
    hdf5)        link hdf5 "$SUPPORT Fuzz/WeightsSeeds.swift Fuzz/FuzzHDF5.swift" "$WEIGHTS_OBJ" ;;
    npy)         link npy "$SUPPORT Fuzz/FuzzNPY.swift" "$OUT/ClipCore.o" ;;
    annoy)       link annoy "$SUPPORT Fuzz/FuzzAnnoy.swift" "$OUT/ClipCore.o $OUT/AnnoyIndex.o" ;;
    multipart)   link multipart "$SUPPORT Fuzz/FuzzMultipart.swift Sources/ClipServer/Multipart.swift" "$OUT/ClipCore.o" ;;
    tokenizer)   link tokenizer "$SUPPORT Fuzz/FuzzTokenizer.swift" "$OUT/ClipCore.o $OUT/ClipTokenizer.o" ;;
    *) echo "unknown fuzz target '$t' (targets: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
done
