#!/usr/bin/env bash
# Builds a Hanse contract into a WebAssembly module the node accepts at deploy.
#
#   contracts/build.sh path/to/contract.c     [out.wasm]
#   contracts/build.sh path/to/contract.swift [out.wasm]
#
# C contracts include contracts/sdk/c/hanse.h (and hanse_json.h); Embedded Swift contracts are
# compiled in one module with contracts/sdk/swift/Hanse.swift. Both link contracts/sdk/c/hanse_libc.c
# (memory functions and the allocator). Only functions marked as methods (HANSE_METHOD / HANSE_INIT /
# HANSE_MIGRATE in C, @_expose(wasm, "name") in Swift) and the memory are exported.
#
# The output defaults to the source's path with .wasm. When python3 is present the module is then
# checked with contracts/inspect.py (imports, memory, exports, no floating point) and the build
# fails if a deploy would.
#
# Tools: clang, wasm-ld and (for Swift) swiftc with the Embedded Swift wasm32 support, as shipped in
# the Swift 6.3 toolchain. Set HANSE_TOOLCHAIN to the directory holding them (default: the directory
# of `swiftc` on PATH, else /opt/swift/usr/bin). Extra flags: HANSE_CFLAGS, HANSE_SWIFTFLAGS,
# HANSE_LDFLAGS.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: contracts/build.sh path/to/contract.(c|swift) [out.wasm]"
src=$1
[[ -f $src ]] || die "no such file: $src"
case $src in
    *.c) lang=c ;;
    *.swift) lang=swift ;;
    *) die "unknown source type: $src (expected .c or .swift)" ;;
esac
out=${2:-${src%.*}.wasm}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sdk=$here/sdk

if [[ -z ${HANSE_TOOLCHAIN:-} ]]; then
    if command -v swiftc >/dev/null 2>&1; then
        HANSE_TOOLCHAIN=$(dirname "$(readlink -f "$(command -v swiftc)")")
    else
        HANSE_TOOLCHAIN=/opt/swift/usr/bin
    fi
fi

# A tool from the toolchain directory, else from PATH; a clear error when neither has it.
tool() {
    if [[ -x $HANSE_TOOLCHAIN/$1 ]]; then
        echo "$HANSE_TOOLCHAIN/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        die "$1 not found (looked in $HANSE_TOOLCHAIN and on PATH); install the Swift 6.3 toolchain, which ships clang, wasm-ld and swiftc with Embedded Swift for wasm32, or set HANSE_TOOLCHAIN"
    fi
}
clang=$(tool clang)
wasmld=$(tool wasm-ld)
[[ $lang == swift ]] && swiftc=$(tool swiftc)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hanse-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# wasm32 with the MVP instruction set plus bulk memory (memory.copy/fill) and sign extension;
# no SIMD. -ffreestanding/-nostdlib: there is no libc but hanse_libc.c.
cflags=(--target=wasm32 -nostdlib -ffreestanding -O2 -mno-simd128 -mbulk-memory -msign-ext
        -fno-exceptions -Wall -Wextra -I"$sdk/c")
# shellcheck disable=SC2206
cflags+=(${HANSE_CFLAGS:-})

(cd "$tmp" && "$clang" "${cflags[@]}" -fno-builtin -c "$sdk/c/hanse_libc.c" -o hanse_libc.o) \
    || die "compiling $sdk/c/hanse_libc.c failed"

src_abs=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
objects=("$tmp/hanse_libc.o")
# The compilers run inside $tmp with a fixed output name: swiftc derives data in the object from
# the output path, and the same source should give the same module wherever it is built.
if [[ $lang == c ]]; then
    (cd "$tmp" && "$clang" "${cflags[@]}" -c "$src_abs" -o contract.o) || die "compiling $src failed"
    objects+=("$tmp/contract.o")
else
    swiftflags=(-target wasm32-unknown-none-wasm -enable-experimental-feature Embedded
                -enable-experimental-feature Extern -wmo -parse-as-library -Osize
                -Xcc -fno-stack-protector -Xfrontend -disable-stack-protector -module-name Contract)
    # shellcheck disable=SC2206
    swiftflags+=(${HANSE_SWIFTFLAGS:-})
    (cd "$tmp" && "$swiftc" "${swiftflags[@]}" -c "$sdk/swift/Hanse.swift" "$src_abs" -o contract.o) \
        || die "compiling $src with $sdk/swift/Hanse.swift failed"
    objects+=("$tmp/contract.o")
    # String comparison and hashing need Unicode tables; linked only when the code uses them.
    tables=$(dirname "$(dirname "$swiftc")")/lib/swift/embedded/wasm32-unknown-none-wasm/libswiftUnicodeDataTables.a
    [[ -f $tables ]] && objects+=("$tables")
fi

# No --export-dynamic: only symbols with an export name (the methods) are exported, plus the memory.
# The stack comes first so that an overflow traps instead of overwriting data. The memory starts
# as small as the data and stack need (the node charges for every initial page) and may grow to
# 256 pages (16 MiB), the most a contract may declare.
ldflags=(--no-entry --stack-first -z stack-size=65536 --max-memory=16777216 --strip-all --gc-sections)
# shellcheck disable=SC2206
ldflags+=(${HANSE_LDFLAGS:-})
"$wasmld" "${ldflags[@]}" "${objects[@]}" -o "$tmp/contract.wasm" || die "linking failed"

if command -v python3 >/dev/null 2>&1; then
    if ! python3 "$here/inspect.py" "$tmp/contract.wasm" >"$tmp/inspect.txt"; then
        sed "s|$tmp/contract.wasm|$out|" "$tmp/inspect.txt" >&2
        die "not writing $out: a deploy would refuse it (see the PROBLEM lines above)"
    fi
    grep -E '^  (methods|memory):' "$tmp/inspect.txt" || true
else
    echo "build.sh: python3 not found; skipped the deploy checks of contracts/inspect.py" >&2
fi

mkdir -p "$(dirname "$out")"
cp "$tmp/contract.wasm" "$out"
size=$(wc -c <"$out" | tr -d ' ')
echo "wrote $out ($size bytes)"
