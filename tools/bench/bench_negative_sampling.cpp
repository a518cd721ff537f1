// Negative sampling (data::NegativeSampler) on a Gowalla-shaped training set: 29,858 users x
// 40,981 items, ~810k distinct interactions, item popularity Zipf(1) and user degrees heavy-tailed,
// so popularity draws meet users holding much of the mass. A batch is BPR's: users of random
// training rows, keyed by row id, k negatives each. Cases:
//   negatives/<kind>/<device>/<batch>/<k>: NegativeSampler::sample where the sampler lives;
//   negatives/<kind>/host_then_copy/<batch>/<k> (GPU runs only): the CPU draw plus the copy of its
//   output to the GPU, what a training step pays without the device sampler.
// Counter: samples/s (negatives drawn per second). Not bandwidth-bound (binary searches over
// each user's positives), so no copy% column.
#include <algorithm>
#include <cmath>
#include <memory>

#include "aisle/data/negative_sampler.hpp"
#include "bench_common.hpp"

namespace aisle::bench {
namespace {

constexpr int64_t kUsers = 29'858, kItems = 40'981, kRows = 810'000;

struct Data {
  std::shared_ptr<const data::UserItemIndex> index;
  Tensor counts;
  std::vector<int64_t> row_users;  // user of each training row (duplicates collapsed in the index)
};

const Data& gowalla_like() {
  static const Data made = [] {
    Generator gen(21);
    std::vector<double> item_cdf(static_cast<size_t>(kItems)), user_cdf(static_cast<size_t>(kUsers));
    double items_total = 0, users_total = 0;
    for (int64_t i = 0; i < kItems; ++i) item_cdf[static_cast<size_t>(i)] = items_total += 1.0 / static_cast<double>(i + 1);
    // Degrees ~ 1 / sqrt(rank): a long tail of light users and some holding thousands of items.
    for (int64_t u = 0; u < kUsers; ++u)
      user_cdf[static_cast<size_t>(u)] = users_total += 1.0 / std::sqrt(static_cast<double>(u + 1));
    auto pick = [&](const std::vector<double>& cdf, double total) {
      const int64_t k = std::lower_bound(cdf.begin(), cdf.end(), gen.next_double() * total) - cdf.begin();
      return std::min<int64_t>(k, static_cast<int64_t>(cdf.size()) - 1);
    };
    std::vector<int64_t> users(kRows), items(kRows);
    for (int64_t r = 0; r < kRows; ++r) {
      users[static_cast<size_t>(r)] = pick(user_cdf, users_total);
      items[static_cast<size_t>(r)] = pick(item_cdf, items_total);
    }
    const data::Interactions x = data::Interactions::from_vectors(users, items, kUsers, kItems);
    return Data{std::make_shared<data::UserItemIndex>(x), data::item_counts(x), users};
  }();
  return made;
}

data::NegativeSampler make_sampler(bool popularity) {
  const Data& d = gowalla_like();
  return popularity ? data::NegativeSampler::popularity(d.index, d.counts, 0.75)
                    : data::NegativeSampler::uniform(d.index);
}

// A batch of random training rows: (users, row keys), on the CPU.
std::pair<Tensor, Tensor> batch(int64_t size) {
  const Data& d = gowalla_like();
  Generator gen(22);
  std::vector<int64_t> users(static_cast<size_t>(size)), rows(static_cast<size_t>(size));
  for (int64_t b = 0; b < size; ++b) {
    rows[static_cast<size_t>(b)] = static_cast<int64_t>(gen.next_below(kRows));
    users[static_cast<size_t>(b)] = d.row_users[static_cast<size_t>(rows[static_cast<size_t>(b)])];
  }
  return {Tensor::from_vector(users), Tensor::from_vector(rows)};
}

// host_then_copy: a CPU sampler, output copied to `d`.
void bench_sample(benchmark::State& state, bool popularity, Device d, bool host_then_copy) {
  const int64_t size = state.range(0), k = state.range(1);
  track_peak_memory(d);
  const data::NegativeSampler cpu = make_sampler(popularity);
  const data::NegativeSampler sampler = host_then_copy ? cpu : cpu.to(d);
  auto [users, keys] = batch(size);
  if (!host_then_copy) {
    users = users.to(d);
    keys = keys.to(d);
  }
  uint64_t stream = 0;
  for (auto _ : state) {
    Tensor out = sampler.sample(users, k, 7, ++stream, keys);
    if (host_then_copy) out = out.to(d);
    benchmark::DoNotOptimize(out.raw_data());
    sync(d);
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(size * k), benchmark::Counter::kIsIterationInvariantRate);
  report_rates(state, 0, 0, d);
}

const int registered = [] {
  for (const bool popularity : {false, true}) {
    const std::string kind = popularity ? "popularity" : "uniform";
    for (const Device d : devices()) {
      const std::string where = d.is_cuda() ? "cuda" : "cpu";
      timed(benchmark::RegisterBenchmark(("negatives/" + kind + "/" + where).c_str(), bench_sample, popularity, d, false))
          ->Args({2048, 1})->Args({65536, 1})->Args({65536, 4});
      if (d.is_cuda())
        timed(benchmark::RegisterBenchmark(("negatives/" + kind + "/host_then_copy").c_str(), bench_sample, popularity,
                                           d, true))
            ->Args({2048, 1})->Args({65536, 1})->Args({65536, 4});
    }
  }
  return 0;
}();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
