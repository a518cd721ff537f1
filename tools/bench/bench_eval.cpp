// Full-ranking evaluation at the size of Gowalla (LightGCN split: 29,858 users x 40,981 items,
// 810,128 training and 217,242 test interactions), 64 factors, K = 20: the issue-5 target is one
// whole evaluation in 20 ms on an H100. Random factors and random interactions of that shape (the
// work does not depend on the values: every user is scored against every item, training items
// masked, top-k taken, test positions ranked). Reported per evaluation: wall time, the score
// GEMM's FLOPs, and the bytes of the score matrix written and read once (the unavoidable traffic
// when scores go through device memory).
#include "aisle/data/interactions.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "bench_common.hpp"

namespace aisle::bench {
namespace {

constexpr int64_t kUsers = 29'858, kItems = 40'981, kTrain = 810'128, kTest = 217'242, kFactors = 64;

data::Interactions random_interactions(int64_t rows, uint64_t seed) {
  Generator gen(seed);
  const Tensor items = ops::randint({rows}, 0, kItems, gen, DType::i64, Device::cpu());
  std::vector<int64_t> u(static_cast<size_t>(rows)), i = items.to_vector<int64_t>();
  for (int64_t r = 0; r < rows; ++r) u[static_cast<size_t>(r)] = r % kUsers;  // every user has rows
  return data::Interactions::from_vectors(u, i, kUsers, kItems);
}

void full_ranking(benchmark::State& state, Device dev) {
  track_peak_memory(dev);
  const data::UserItemIndex train(random_interactions(kTrain, 1)), test(random_interactions(kTest, 2));
  Generator gen(3);
  const Tensor user_emb = ops::uniform({kUsers, kFactors}, gen, -0.1, 0.1, DType::f32, dev);
  const Tensor item_emb = ops::uniform({kItems, kFactors}, gen, -0.1, 0.1, DType::f32, dev);
  const eval::Scorer scorer = [&](const Tensor& users) {
    return ops::matmul(ops::gather_rows(user_emb, users), item_emb, false, true);
  };
  eval::FullRankingOptions options;
  options.ks = {20};
  options.batch_size = state.range(0);
  options.device = dev;
  for (auto _ : state) {
    benchmark::DoNotOptimize(eval::evaluate_full_ranking(scorer, train, test, options));
    sync(dev);
  }
  const double scores = static_cast<double>(kUsers) * kItems;
  report_rates(state, 2.0 * scores * kFactors, 2.0 * 4.0 * scores, dev);
}

int register_all() {
  for (Device dev : devices()) {
    const std::string tag = dev.is_cuda() ? "cuda" : "cpu";
    auto* bm = timed(benchmark::RegisterBenchmark(("full_ranking_gowalla_k20/" + tag).c_str(), full_ranking, dev));
    bm->Unit(benchmark::kMillisecond);
    if (dev.is_cuda()) bm->Arg(4096)->Arg(8192)->Arg(29858);
    else bm->Arg(1024)->Iterations(1);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
