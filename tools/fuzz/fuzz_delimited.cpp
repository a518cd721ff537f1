// libFuzzer target for the delimited-file tokenizer and the field conversions (run.sh builds and
// runs it). The first input byte picks the dialect and read-chunk size, the rest is the file.
// Beyond the sanitizers it checks that reading in small chunks gives exactly what reading in one
// piece gives (chunk boundaries are where a streaming tokenizer goes wrong), and the basic
// promises about fields, lines and errors.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/data/delimited.hpp"
#include "aisle/data/fields.hpp"

namespace {

using namespace aisle::data;

#define FUZZ_CHECK(cond)                                                 \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "fuzz_delimited: check failed: %s\n", #cond); \
      std::abort();                                                      \
    }                                                                    \
  } while (0)

struct Outcome {
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines;
  std::vector<std::string> errors;
  std::vector<std::string> header;
  std::string thrown;
  bool operator==(const Outcome&) const = default;
};

void convert(std::string_view field) {
  int64_t i = 0;
  double d = 0;
  float f = 0;
  if (!parse_int64(field, i)) {
    double back = 0;  // every integer is also a number
    FUZZ_CHECK(!parse_double(field, back));
  }
  if (!parse_double(field, d)) FUZZ_CHECK(d == d && d - d == 0);  // finite
  (void)parse_float(field, f);
  (void)parse_timestamp(field, i);
  const std::string q = quote_field(field, 16);
  FUZZ_CHECK(valid_utf8(q) == q && q.size() <= 16 + 5);
}

Outcome read(std::string_view text, const Dialect& dialect, size_t chunk, bool check) {
  Outcome o;
  try {
    DelimitedReader r(std::make_unique<MemorySource>(text, chunk), "fuzz", dialect);
    int64_t last_line = 0;
    while (r.next()) {
      FUZZ_CHECK(r.line() >= 1 && r.line() >= last_line);
      last_line = r.line();
      FUZZ_CHECK(r.size() > 0);
      FUZZ_CHECK(r.error_field() == DelimitedReader::npos || r.error_field() < r.size());
      o.rows.emplace_back(r.fields().begin(), r.fields().end());
      o.lines.push_back(r.line());
      o.errors.emplace_back(r.error() ? r.error() : "");
      if (!check) continue;
      for (std::string_view f : r.fields()) {
        if (dialect.whitespace)
          FUZZ_CHECK(!f.empty() && f.find_first_of(" \t\n") == std::string_view::npos);
        else if (!dialect.quotes)
          FUZZ_CHECK(f.find('\n') == std::string_view::npos && f.find(dialect.delimiter) == std::string_view::npos);
        convert(f);
      }
    }
    o.header = r.header();
    FUZZ_CHECK(r.bytes() <= text.size());
  } catch (const aisle::Error& e) {
    o.thrown = e.what();  // an over-long record; anything else escaping is a bug
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t config = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  Dialect d;
  static const char* const kDelimiters[] = {",", "\t", "::", " "};
  d.delimiter = kDelimiters[config & 3];
  d.whitespace = (config & 3) == 3;
  d.header = (config & 4) != 0;
  d.quotes = (config & 8) != 0;
  d.max_record_bytes = (config & 16) ? 64 : 4096;  // small limits reach the buffer-growth code
  const size_t chunk = 1 + (config >> 5);           // 1..8 bytes per read
  const Outcome whole = read(text, d, text.size() + 1, true);
  const Outcome pieces = read(text, d, chunk, false);
  FUZZ_CHECK(whole == pieces);
  return 0;
}
