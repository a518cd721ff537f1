// Import speed on a generated MovieLens-20M-style ratings.csv (header userId,movieId,rating,
// timestamp; 162K users, 59K items, skewed item popularity), single-threaded. Reports rows/s and
// MB/s of text for three depths: tokenizing only, tokenizing + converting every field, and the
// whole `movielens-20m` import (ids interned, columns written and checksummed, meta.json).
// The target is 1M CSV rows per second per core.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "aisle/data/delimited.hpp"
#include "aisle/data/fields.hpp"
#include "aisle/data/importers.hpp"
#include "bench_common.hpp"

namespace aisle::bench {
namespace {

namespace fs = std::filesystem;

// The input, written once per process and removed at exit.
struct RatingsFile {
  fs::path dir = fs::temp_directory_path() / ("aisle-bench-import-" + std::to_string(::getpid()));
  fs::path csv = dir / "ratings.csv";
  int64_t rows = 0;
  uint64_t bytes = 0;

  explicit RatingsFile(int64_t n) : rows(n) {
    fs::create_directories(dir);
    Generator gen(20);
    std::ofstream out(csv, std::ios::binary);
    out << "userId,movieId,rating,timestamp\n";
    std::string line;
    for (int64_t r = 0; r < n; ++r) {
      const uint64_t user = 1 + gen.next_below(162'541);
      // A power law over 59K items: most rows hit the popular ones, as in MovieLens.
      const uint64_t item = 1 + static_cast<uint64_t>(std::pow(gen.next_double(), 3.0) * 59'047);
      const uint64_t half_stars = 1 + gen.next_below(10);
      line = std::to_string(user) + "," + std::to_string(item) + "," + std::to_string(half_stars / 2) +
             (half_stars % 2 ? ".5" : ".0") + "," + std::to_string(789'652'009 + gen.next_below(638'000'000)) + "\n";
      out << line;
      bytes += line.size();
    }
  }
  ~RatingsFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const RatingsFile& ratings() {
  static const RatingsFile file(2'000'000);
  return file;
}

void rates(benchmark::State& state, const RatingsFile& f) {
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(f.rows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(f.bytes) * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
}

data::Dialect csv_with_header() {
  data::Dialect d;
  d.header = true;
  return d;
}

void tokenize(benchmark::State& state) {
  const RatingsFile& f = ratings();
  for (auto _ : state) {
    data::DelimitedReader r(f.csv, csv_with_header());
    size_t fields = 0;
    while (r.next()) fields += r.size();
    benchmark::DoNotOptimize(fields);
  }
  rates(state, f);
}

void tokenize_and_convert(benchmark::State& state) {
  const RatingsFile& f = ratings();
  for (auto _ : state) {
    data::DelimitedReader r(f.csv, csv_with_header());
    int64_t user = 0, item = 0, time = 0, sum = 0;
    float rating = 0;
    while (r.next()) {
      const bool bad = data::parse_int64(r[0], user) || data::parse_int64(r[1], item) ||
                       data::parse_float(r[2], rating) || data::parse_timestamp(r[3], time);
      sum += bad ? 0 : user + item + time + static_cast<int64_t>(rating);
    }
    benchmark::DoNotOptimize(sum);
  }
  rates(state, f);
}

void full_import(benchmark::State& state) {
  const RatingsFile& f = ratings();
  data::ImportOptions o;
  o.format = "movielens-20m";
  o.inputs = {f.csv};
  o.out = f.dir / "dataset";
  o.overwrite = true;
  for (auto _ : state) benchmark::DoNotOptimize(data::import_dataset(o).interactions);
  rates(state, f);
}

BENCHMARK(tokenize)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(tokenize_and_convert)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(full_import)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
