// Per-rating SGD of biased MF, f32: the Hogwild kernel on CUDA (cuda/mf_sgd.hpp, every rating of
// the batch in flight at once) and sequential_sgd on the CPU (one rating after another), on
// random ratings over 1M users x 100k items, users uniform and item ids uniform or Zipf(1): the
// skewed case puts ~8% of the ratings on one item row, the worst case for Hogwild's races on the
// same row. Counters: updates/s (ratings applied per second) and GB/s of the bytes a rating must
// move at least: its two factor rows read and written (16 F bytes) and the rating read (12 bytes);
// the biases are not counted.
#include <algorithm>
#include <cmath>
#include <map>

#include "bench_common.hpp"
#include "cuda/mf_sgd.hpp"
#include "src/core/dispatch.hpp"
#include "src/models/biased_mf/sequential_sgd.hpp"

namespace aisle::bench {
namespace {

using models::biased_mf::PackedRating;
using models::biased_mf::SgdHyper;
using models::biased_mf::Tables;

constexpr int64_t kUsers = 1'000'000, kItems = 100'000;
constexpr int64_t kGpuRatings = 10'000'000, kCpuRatings = 1'000'000;

// Generated once per (count, skew) and shared by the benchmarks that use them.
const std::vector<PackedRating>& ratings(int64_t count, bool zipf) {
  static std::map<std::pair<int64_t, bool>, std::vector<PackedRating>> made;
  auto& out = made[{count, zipf}];
  if (!out.empty()) return out;
  Generator gen(11);
  std::vector<double> cdf(static_cast<size_t>(kItems));  // Zipf: P(i) proportional to 1 / (i + 1)
  double total = 0;
  for (int64_t i = 0; i < kItems; ++i) cdf[static_cast<size_t>(i)] = total += 1.0 / static_cast<double>(i + 1);
  out.resize(static_cast<size_t>(count));
  for (PackedRating& r : out) {
    r.user = static_cast<int32_t>(gen.next_below(kUsers));
    const int64_t item = zipf ? std::lower_bound(cdf.begin(), cdf.end(), gen.next_double() * total) - cdf.begin()
                              : static_cast<int64_t>(gen.next_below(kItems));
    r.item = static_cast<int32_t>(std::min(item, kItems - 1));
    r.value = static_cast<float>(1 + gen.next_below(5));
  }
  return out;
}

struct Model {
  Tensor p, q, bu, bi;
  Tables tables() const { return {p.data<float>(), q.data<float>(), bu.data<float>(), bi.data<float>(), p.size(1)}; }
};

Model make_model(Device dev, int64_t factors) {
  Generator gen(12);
  return {ops::uniform({kUsers, factors}, gen, -0.05, 0.05, DType::f32, dev),
          ops::uniform({kItems, factors}, gen, -0.05, 0.05, DType::f32, dev), Tensor::zeros({kUsers}, DType::f32, dev),
          Tensor::zeros({kItems}, DType::f32, dev)};
}

// Small enough that repeated passes over the same ratings stay finite.
constexpr SgdHyper kHyper{.lr = 0.005f, .reg = 0.02f, .reg_bias = 0.02f, .global_mean = 3.0f, .use_biases = true};

void report(benchmark::State& state, int64_t count, int64_t factors, Device dev) {
  state.counters["updates/s"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate);
  report_rates(state, 0, static_cast<double>(count) * (16.0 * static_cast<double>(factors) + 12.0), dev);
}

void hogwild(benchmark::State& state, Device dev) {
  const int64_t factors = state.range(0), count = state.range(2);
  const std::vector<PackedRating>& host = ratings(count, state.range(1) != 0);
  track_peak_memory(dev);
  const Model m = make_model(dev, factors);
  const Tensor on_device = Tensor::from_host(host.data(), {count, 3}, DType::i32, dev);
  [[maybe_unused]] const auto* r = reinterpret_cast<const PackedRating*>(on_device.data<int32_t>());
  for (auto _ : state) {
    double sum_sq = 0;  // hogwild_sgd waits for its kernel
    AISLE_CUDA_ONLY("bench mf_hogwild_sgd",
                    sum_sq = cuda::hogwild_sgd(dev.index, m.tables(), kUsers, kItems, r, count, kHyper));
    benchmark::DoNotOptimize(sum_sq);
  }
  report(state, count, factors, dev);
}

void sequential(benchmark::State& state, Device dev) {
  const int64_t factors = state.range(0), count = state.range(2);
  const std::vector<PackedRating>& host = ratings(count, state.range(1) != 0);
  const Model m = make_model(dev, factors);
  for (auto _ : state)
    benchmark::DoNotOptimize(models::biased_mf::sequential_sgd(m.tables(), host.data(), count, kHyper));
  report(state, count, factors, dev);
}

int register_all() {
  for (Device dev : devices()) {
    const bool gpu = dev.is_cuda();
    auto* bm = timed(benchmark::RegisterBenchmark(gpu ? "mf_hogwild_sgd/cuda" : "mf_sequential_sgd/cpu",
                                                  gpu ? hogwild : sequential, dev));
    bm->ArgNames({"k", "zipf", "ratings"});
    for (int64_t k : {64, 128})
      for (int64_t zipf : {0, 1}) bm->Args({k, zipf, gpu ? kGpuRatings : kCpuRatings});
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
