#!/usr/bin/env bash
# Fuzzes the HTTP/1.1 request parser with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   scripts/fuzz-http-parser.sh [SECONDS]     default 60; CI runs a short smoke run
#
# The corpus lives in Fuzz/corpus/http-parser (new interesting inputs are added to it); a crash
# leaves its input in Fuzz/crashers/http-parser, where HTTP1Tests replays every file as a
# regression test. Compiles Sources/HanseCore and Sources/HTTP1 with the target as one module.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=".build/fuzz"
source_dir="$build/src"
rm -rf "$source_dir"
mkdir -p "$source_dir" Fuzz/corpus/http-parser Fuzz/crashers/http-parser
# One module: drop the cross-module imports of HanseCore.
for file in Sources/HanseCore/*.swift Sources/HTTP1/*.swift Fuzz/HTTPParser/*.swift; do
  sed -E '/^(public |internal )?import HanseCore$/d' "$file" > "$source_dir/$(basename "$file")"
done
echo "fuzz: compiling the parser with libFuzzer and AddressSanitizer"
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name FuzzHTTPParser \
  "$source_dir"/*.swift -o "$build/fuzz-http-parser"
echo "fuzz: running for ${seconds}s"
# libFuzzer reports crashes itself; Swift's interactive backtracer would only get in its way.
SWIFT_BACKTRACE=enable=no "$build/fuzz-http-parser" Fuzz/corpus/http-parser \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix=Fuzz/crashers/http-parser/ > "$build/fuzz.log" 2>&1 || status=$?
tail -n 25 "$build/fuzz.log"
exit "${status:-0}"
