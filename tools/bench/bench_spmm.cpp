// CSR sparse x dense (the propagation step of graph recommenders), f32, on the CPU and CUDA.
// The matrix is a random bipartite-style graph with a skewed degree distribution. Reports
// GFLOP/s (2·nnz·d) and GB/s of the minimum traffic: row_ptr, col_idx and values once, one row of x
// per entry (nnz·d·4: rows are gathered, so they are counted per use) and the output once.
// With the CUDA backend, spmm/cusparse times cusparseSpMM on the same matrix and dense input as
// spmm/cuda, as the yardstick for our kernel, and reports (max_abs_diff) how far its product is
// from ours; a difference beyond rounding fails that case.
#include <cmath>
#include <string>

#include "bench_common.hpp"

#if AISLE_BENCH_CUSPARSE
#include <cusparse.h>

#include "src/device/cuda_context.hpp"
#endif

namespace aisle::bench {
namespace {

ops::Csr make_graph(int64_t rows, int64_t cols, int64_t avg_degree, Device dev) {
  Generator gen(11);
  std::vector<int64_t> r, c;
  for (int64_t i = 0; i < rows; ++i) {
    // degrees from a heavy-tailed distribution with the requested mean
    const double u = gen.next_double();
    const int64_t deg = std::max<int64_t>(1, static_cast<int64_t>(avg_degree * 0.5 / std::sqrt(1.0 - u * 0.999)));
    for (int64_t k = 0; k < deg; ++k) {
      r.push_back(i);
      c.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(cols))));
    }
  }
  const int64_t nnz = static_cast<int64_t>(r.size());
  const Tensor vals = ops::uniform({nnz}, gen, 0, 1, DType::f32);
  return ops::csr_from_coo(Tensor::from_vector(r).to(dev), Tensor::from_vector(c).to(dev), vals.to(dev), rows, cols);
}

void spmm(benchmark::State& state, Device dev) {
  const int64_t n = state.range(0), degree = state.range(1), d = state.range(2);
  const ops::Csr a = make_graph(n, n, degree, dev);
  Generator gen(12);
  const Tensor x = ops::uniform({n, d}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::spmm(a, x));
    sync(dev);
  }
  const double nnz = static_cast<double>(a.nnz());
  state.counters["nnz"] = nnz;
  report_rates(state, 2.0 * nnz * d, 8.0 * (n + 1) + 12.0 * nnz + 4.0 * d * (nnz + n));
}

#if AISLE_BENCH_CUSPARSE
std::string cusparse_error(const char* call, cusparseStatus_t status) {
  return std::string(call) + " failed: " + cusparseGetErrorString(status);
}

// The cuSPARSE descriptors of y = A x for a row-major x [cols, d] and y [rows, d]; freed on scope exit.
struct CusparseSpmm {
  cusparseHandle_t handle = nullptr;
  cusparseSpMatDescr_t a = nullptr;
  cusparseDnMatDescr_t x = nullptr, y = nullptr;
  ~CusparseSpmm() {
    if (y) cusparseDestroyDnMat(y);
    if (x) cusparseDestroyDnMat(x);
    if (a) cusparseDestroySpMat(a);
    if (handle) cusparseDestroy(handle);
  }
};

// cuSPARSE's CSR SpMM in f32. ALG2 is its row-major CSR algorithm (deterministic, 64-bit indices);
// the default algorithm is the fallback should a cuSPARSE version decline it for these inputs.
void spmm_cusparse(benchmark::State& state) {
  const Device dev = Device::cuda(0);
  const int64_t n = state.range(0), degree = state.range(1), d = state.range(2);
  const ops::Csr a = make_graph(n, n, degree, dev);
  Generator gen(12);
  const Tensor x = ops::uniform({n, d}, gen, -1, 1, DType::f32, dev);
  Tensor y = Tensor::zeros({n, d}, DType::f32, dev);
  if (a.row_ptr.dtype() != DType::i64 || a.col_idx.dtype() != DType::i64) {
    state.SkipWithError("spmm/cusparse expects i64 row_ptr and col_idx");
    return;
  }
  CusparseSpmm op;
  auto ok = [&](cusparseStatus_t status, const char* call) {
    if (status == CUSPARSE_STATUS_SUCCESS) return true;
    state.SkipWithError(cusparse_error(call, status).c_str());
    return false;
  };
  cuda::use_device(dev.index);
  if (!ok(cusparseCreate(&op.handle), "cusparseCreate") ||
      !ok(cusparseSetStream(op.handle, cuda::stream(dev.index)), "cusparseSetStream") ||
      !ok(cusparseCreateCsr(&op.a, n, n, a.nnz(), a.row_ptr.raw_data(), a.col_idx.raw_data(), a.values.raw_data(),
                            CUSPARSE_INDEX_64I, CUSPARSE_INDEX_64I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F),
          "cusparseCreateCsr") ||
      !ok(cusparseCreateDnMat(&op.x, n, d, d, x.raw_data(), CUDA_R_32F, CUSPARSE_ORDER_ROW), "cusparseCreateDnMat") ||
      !ok(cusparseCreateDnMat(&op.y, n, d, d, y.raw_data(), CUDA_R_32F, CUSPARSE_ORDER_ROW), "cusparseCreateDnMat"))
    return;
  const float alpha = 1.0f, beta = 0.0f;
  cusparseSpMMAlg_t alg = CUSPARSE_SPMM_CSR_ALG2;
  size_t bytes = 0;
  if (cusparseSpMM_bufferSize(op.handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
                              op.a, op.x, &beta, op.y, CUDA_R_32F, alg, &bytes) != CUSPARSE_STATUS_SUCCESS) {
    alg = CUSPARSE_SPMM_ALG_DEFAULT;
    if (!ok(cusparseSpMM_bufferSize(op.handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                    &alpha, op.a, op.x, &beta, op.y, CUDA_R_32F, alg, &bytes),
            "cusparseSpMM_bufferSize"))
      return;
  }
  // Through aisle's allocator, so that peak memory and allocation cost are counted alike.
  const Tensor workspace = Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, dev);
  auto multiply = [&] {
    return cusparseSpMM(op.handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, op.a,
                        op.x, &beta, op.y, CUDA_R_32F, alg, workspace.raw_data());
  };

  // Checked once, before timing: both sum each row in f32, in different orders, so they agree to
  // rounding: |difference| <= 1e-4 (1 + |y|) per element, far above rounding of these row lengths.
  if (!ok(multiply(), "cusparseSpMM")) return;
  sync(dev);
  const std::vector<float> theirs = y.to_vector<float>(), ours = ops::spmm(a, x).to_vector<float>();
  double max_diff = 0, worst_excess = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(theirs[i]) - static_cast<double>(ours[i]));
    max_diff = std::max(max_diff, diff);
    worst_excess = std::max(worst_excess, diff - 1e-4 * (1.0 + std::fabs(static_cast<double>(ours[i]))));
  }
  state.counters["max_abs_diff"] = max_diff;
  if (worst_excess > 0) {
    state.SkipWithError(("cuSPARSE and aisle spmm differ by up to " + std::to_string(max_diff)).c_str());
    return;
  }

  for (auto _ : state) {
    if (!ok(multiply(), "cusparseSpMM")) break;
    sync(dev);
  }
  const double nnz = static_cast<double>(a.nnz());
  state.counters["nnz"] = nnz;
  state.counters["csr_alg2"] = alg == CUSPARSE_SPMM_CSR_ALG2 ? 1 : 0;
  report_rates(state, 2.0 * nnz * d, 8.0 * (n + 1) + 12.0 * nnz + 4.0 * d * (nnz + n));
}
#endif

int register_all() {
  for (Device dev : devices()) {
    const std::string tag = dev.is_cuda() ? "cuda" : "cpu";
    auto* bm = timed(benchmark::RegisterBenchmark(("spmm/" + tag).c_str(), spmm, dev));
    bm->Args({100'000, 20, 64})->Args({100'000, 20, 128});
    if (dev.is_cuda()) bm->Args({1'000'000, 20, 64});
#if AISLE_BENCH_CUSPARSE
    if (dev.is_cuda())
      timed(benchmark::RegisterBenchmark("spmm/cusparse", spmm_cusparse))
          ->Args({100'000, 20, 64})
          ->Args({100'000, 20, 128})
          ->Args({1'000'000, 20, 64});
#endif
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
