// embedding_bag forward and backward, f32, on the CPU and CUDA. Reports GB/s of the bytes each
// kernel must move at least: forward reads every looked-up row (ids·D·4) plus ids and offsets and
// writes B·D·4; backward reads dy (B·D·4) and writes one gradient row per id (ids·D·4). The
// optimizer benchmarks take a whole sparse step on the same batch: `_unfused` is backward,
// coalesce_rows and rowwise_adagrad_update (the gradient rows written and read back), `_fused`
// the steps of aisle/ops/embedding_update.hpp, which must at least read dy, ids and offsets and
// read and write every touched row of the table and of its optimizer state once. `_bf16` runs take
// a bf16 table (f32 compute and state; the steps round stochastically): table bytes count 2 each.
// `embedding_bag_bwd_dense[_atomic]` reduce the backward into a dense gradient table (see below).
#include <unordered_set>

#include "bench_common.hpp"

namespace aisle::bench {
namespace {

constexpr int64_t kRows = 1'000'000;

struct Batch {
  Tensor table, ids, offsets;
  int64_t bags, ids_n, dim;
  double table_bytes;  // per element
};

Batch make_batch(Device dev, int64_t bags, int64_t bag_size, int64_t dim, DType table_dtype = DType::f32) {
  track_peak_memory(dev);
  Generator gen(7);
  Batch b;
  b.bags = bags;
  b.ids_n = bags * bag_size;
  b.dim = dim;
  b.table = ops::uniform({kRows, dim}, gen, -0.1, 0.1, DType::f32, dev).to(table_dtype);
  b.table_bytes = static_cast<double>(dtype_size(table_dtype));
  b.ids = ops::randint({b.ids_n}, 0, kRows, gen, DType::i64, dev);
  std::vector<int64_t> off(static_cast<size_t>(bags + 1));
  for (int64_t i = 0; i <= bags; ++i) off[static_cast<size_t>(i)] = i * bag_size;
  b.offsets = Tensor::from_vector(off, dev);
  return b;
}

void bag_forward(benchmark::State& state, Device dev, DType table_dtype) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2), table_dtype);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::embedding_bag(b.table, b.ids, b.offsets, ops::BagMode::sum));
    sync(dev);
  }
  report_rates(state, 0, b.dim * (b.table_bytes * b.ids_n + 4.0 * b.bags) + 8.0 * (b.ids_n + b.bags + 1), dev);
}

void bag_backward(benchmark::State& state, Device dev, DType) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2));
  Generator gen(8);
  const Tensor dy = ops::uniform({b.bags, b.dim}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::embedding_bag_backward(b.ids, b.offsets, dy, ops::BagMode::sum));
    sync(dev);
  }
  report_rates(state, 0, 4.0 * b.dim * (b.ids_n + b.bags) + 8.0 * (b.ids_n + b.bags + 1), dev);
}

// The backward into a dense gradient table (what a dense optimizer over a lookup takes):
// embedding_bag_backward then scatter_add into [rows, D], sorted and summed in order
// (deterministic, the default) or, `_atomic` (CUDA only), with atomics (train.deterministic: false).
// At least: dy read, the gradient rows written and read back, and the dense table zeroed.
void bag_backward_dense(benchmark::State& state, Device dev, bool atomic) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2));
  Generator gen(8);
  const Tensor dy = ops::uniform({b.bags, b.dim}, gen, -1, 1, DType::f32, dev);
  const DeterministicGuard mode(!atomic);
  for (auto _ : state) {
    const ops::SparseRows rows = ops::embedding_bag_backward(b.ids, b.offsets, dy, ops::BagMode::sum);
    benchmark::DoNotOptimize(ops::scatter_add(rows.rows, rows.indices, kRows));
    sync(dev);
  }
  report_rates(state, 0, 4.0 * b.dim * (b.bags + 2.0 * b.ids_n + kRows) + 8.0 * (b.ids_n + b.bags + 1), dev);
}

// Bytes a fused step must move: dy, ids and offsets read; each distinct row of the table and of
// `state_per_row` state values read and written.
double fused_step_bytes(const Batch& b, double state_per_row) {
  const std::vector<int64_t> ids = b.ids.to(Device::cpu()).to_vector<int64_t>();
  const double distinct = static_cast<double>(std::unordered_set<int64_t>(ids.begin(), ids.end()).size());
  return 4.0 * b.dim * b.bags + 8.0 * (b.ids_n + b.bags + 1) +
         2.0 * distinct * (b.table_bytes * b.dim + 4.0 * state_per_row);
}

// bf16 tables round their updated rows stochastically, the costlier of the two roundings.
HalfRounding rounding_for(const Batch& b, int64_t step) {
  return {.stochastic = getenv("NEAREST") == nullptr && b.table.dtype() != DType::f32, .seed = 1, .step = static_cast<uint64_t>(step)};
}

void rowwise_adagrad_unfused(benchmark::State& state, Device dev, DType) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2));
  Generator gen(9);
  const Tensor dy = ops::uniform({b.bags, b.dim}, gen, -1, 1, DType::f32, dev);
  Tensor table = b.table.clone();
  Tensor acc = Tensor::zeros({kRows}, DType::f32, dev);
  const ops::RowWiseAdagradHyper hyper{0.01, 1e-8, 0.0};
  for (auto _ : state) {
    const ops::SparseRows rows = ops::embedding_bag_backward(b.ids, b.offsets, dy, ops::BagMode::sum);
    ops::rowwise_adagrad_update(table, ops::coalesce_rows(rows.indices, rows.rows), acc, hyper);
    sync(dev);
  }
  // At least: the gradient rows written and read back, and each touched table row read and written.
  report_rates(state, 0, 4.0 * b.dim * (4.0 * b.ids_n + b.bags), dev);
}

void rowwise_adagrad_fused(benchmark::State& state, Device dev, DType table_dtype) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2), table_dtype);
  Generator gen(9);
  const ops::BagGradient grad{b.ids, b.offsets, ops::uniform({b.bags, b.dim}, gen, -1, 1, DType::f32, dev), ops::BagMode::sum, {}};
  Tensor table = b.table.clone();
  Tensor acc = Tensor::zeros({kRows}, DType::f32, dev);
  const ops::RowWiseAdagradHyper hyper{0.01, 1e-8, 0.0};
  int64_t step = 0;
  for (auto _ : state) {
    ops::embedding_bag_rowwise_adagrad_step(table, acc, grad, hyper, rounding_for(b, ++step));
    sync(dev);
  }
  report_rates(state, 0, fused_step_bytes(b, 1.0), dev);
}

void sparse_adam_fused(benchmark::State& state, Device dev, DType table_dtype) {
  const Batch b = make_batch(dev, state.range(0), state.range(1), state.range(2), table_dtype);
  Generator gen(9);
  const ops::BagGradient grad{b.ids, b.offsets, ops::uniform({b.bags, b.dim}, gen, -1, 1, DType::f32, dev), ops::BagMode::sum, {}};
  Tensor table = b.table.clone();
  Tensor m = Tensor::zeros(table.shape(), DType::f32, dev), v = Tensor::zeros(table.shape(), DType::f32, dev);
  int64_t step = 0;
  for (auto _ : state) {
    ++step;
    ops::embedding_bag_sparse_adam_step(table, m, v, grad, {.lr = 0.001, .step = step}, rounding_for(b, step));
    sync(dev);
  }
  report_rates(state, 0, fused_step_bytes(b, 2.0 * b.dim), dev);
}

int register_all() {
  for (Device dev : devices()) {
    const std::string tag = dev.is_cuda() ? "cuda" : "cpu";
    using Fn = void (*)(benchmark::State&, Device, DType);
    struct Kernel {
      Fn fn;
      const char* name;
      DType table_dtype = DType::f32;
    };
    const Kernel kernels[] = {{bag_forward, "embedding_bag_fwd"},
                              {bag_forward, "embedding_bag_fwd_bf16", DType::bf16},
                              {bag_backward, "embedding_bag_bwd"},
                              {rowwise_adagrad_unfused, "embedding_bag_bwd_rowwise_adagrad_unfused"},
                              {rowwise_adagrad_fused, "embedding_bag_bwd_rowwise_adagrad_fused"},
                              {rowwise_adagrad_fused, "embedding_bag_bwd_rowwise_adagrad_fused_bf16", DType::bf16},
                              {sparse_adam_fused, "embedding_bag_bwd_sparse_adam_fused"},
                              {sparse_adam_fused, "embedding_bag_bwd_sparse_adam_fused_bf16", DType::bf16}};
    const std::pair<bool, const char*> dense[] = {{false, "embedding_bag_bwd_dense"}, {true, "embedding_bag_bwd_dense_atomic"}};
    for (const auto& [atomic, name] : dense) {
      if (atomic && !dev.is_cuda()) continue;  // the CPU always sums in order
      auto* bm = timed(benchmark::RegisterBenchmark((std::string(name) + "/" + tag).c_str(), bag_backward_dense, dev, atomic));
      for (int64_t bags : {int64_t{4096}, int64_t{65536}})
        for (int64_t bag : {1, 50}) bm->Args({bags, bag, 64});
    }
    for (const Kernel& k : kernels) {
      auto* bm = timed(benchmark::RegisterBenchmark((std::string(k.name) + "/" + tag).c_str(), k.fn, dev,
                                                    k.table_dtype));
      // 4096 bags: a training batch; 65536: enough rows in flight to fill a GPU's memory system.
      for (int64_t bags : {int64_t{4096}, int64_t{65536}})
        for (int64_t dim : {64, 128})
          for (int64_t bag : {1, 20, 50}) bm->Args({bags, bag, dim});
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
