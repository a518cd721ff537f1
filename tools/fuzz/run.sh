#!/usr/bin/env bash
# Builds the libFuzzer target for the delimited-file parser with clang (ASan + UBSan) and runs
# it for a while. The parser sources are compiled in directly: libaisle is built by g++ and the
# tokenizer needs nothing but the standard library.
#   usage: tools/fuzz/run.sh [SECONDS=60] [WORK_DIR=${TMPDIR:-/tmp}/aisle-fuzz]
# Exit status 0: no crash, sanitizer report or failed check. A crashing input is left in WORK_DIR
# as crash-* (replay: WORK_DIR/fuzz_delimited WORK_DIR/crash-...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
work=${2:-${TMPDIR:-/tmp}/aisle-fuzz}
cxx=${FUZZ_CXX:-clang++}
mkdir -p "$work/corpus" "$work/seeds"

"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$root/include" -I"$root" \
  "$root/src/data/delimited.cpp" "$root/src/data/fields.cpp" "$root/tools/fuzz/fuzz_delimited.cpp" \
  -o "$work/fuzz_delimited"

# Seeds: the first byte is the dialect (bits 0-1 delimiter , TAB :: whitespace; 2 header;
# 3 quotes; 4 small record limit; 5-7 chunk size - 1), the rest a small file of each family.
seed() { printf "$2" > "$work/seeds/$1"; }
seed ml100k    '\x20196\t242\t3\t881250949\n186\t302\t3\t891717742\n'
seed ml1m      '\x421::1193::5::978300760\r\n1::661::3::978302109'
seed ml20m     '\x4c\xef\xbb\xbfuserId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\n1,1029,nan,1e400\n'
seed lightgcn  '\x830 0 1 2 3\n1 38 39\n\n2\n'
seed retail    '\x2cInvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,12/1/2010 9:41,2.1,15311,United Kingdom\n536477,22041,"RECORD FRAME 7"" SINGLE ",48,2010-12-01T12:27:00Z,2.1,,France\n'
seed quotes    '\xe8a,"b\nc","d""e"x,f\n"unclosed,g\n'
seed dates     '\x08-86400,2012-02-29,2011-02-29 25:61,2010-12-01T03:26:00.250-0500,9223372036854775808\n'

cat > "$work/dict" <<'DICT'
"\""
"\"\""
"::"
"\x0d\x0a"
"\xef\xbb\xbf"
"nan"
"inf"
"-"
"+"
"e"
":"
"/"
"T"
"Z"
"2010-12-01 08:26:00"
"12/1/2010 8:26"
"9223372036854775807"
DICT

# -rss_limit_mb leaves room for ASan; -max_len keeps single runs fast.
"$work/fuzz_delimited" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -dict="$work/dict" -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" "$work/seeds"
