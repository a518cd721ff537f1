#include "src/models/bpr_mf/row_optimizer.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/ops/embedding_update.hpp"
#include "aisle/ops/optim.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/ops/optim_functors.hpp"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace aisle::models::bpr {
namespace {

// The element formulas of src/ops/optim_functors.hpp over whole rows. The AVX lanes round exactly
// as the scalar tail does (IEEE add, mul, div and sqrt; no contraction), so the result is
// bit-identical to ops::sparse_adam_update / sparse_adagrad_update. (The compiler does not
// vectorise the scalar loop itself: sqrt may set errno.)
void adam_row(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
              const detail::SparseAdamCoeffs<float>& c) {
  int64_t x = 0;
#if defined(__AVX__)
  const __m256 b1 = _mm256_set1_ps(c.one_minus_beta1), b2 = _mm256_set1_ps(c.one_minus_beta2);
  const __m256 step = _mm256_set1_ps(c.step_size), eps = _mm256_set1_ps(c.eps);
  for (; x + 8 <= n; x += 8) {
    const __m256 gx = _mm256_loadu_ps(g + x);
    __m256 mx = _mm256_loadu_ps(m + x), vx = _mm256_loadu_ps(v + x);
    mx = _mm256_add_ps(mx, _mm256_mul_ps(b1, _mm256_sub_ps(gx, mx)));
    vx = _mm256_add_ps(vx, _mm256_mul_ps(b2, _mm256_sub_ps(_mm256_mul_ps(gx, gx), vx)));
    const __m256 update = _mm256_div_ps(_mm256_mul_ps(step, mx), _mm256_add_ps(_mm256_sqrt_ps(vx), eps));
    _mm256_storeu_ps(m + x, mx);
    _mm256_storeu_ps(v + x, vx);
    _mm256_storeu_ps(p + x, _mm256_sub_ps(_mm256_loadu_ps(p + x), update));
  }
#endif
  for (; x < n; ++x) {
    m[x] = m[x] + c.one_minus_beta1 * (g[x] - m[x]);
    v[x] = v[x] + c.one_minus_beta2 * (g[x] * g[x] - v[x]);
    p[x] = p[x] - c.step_size * m[x] / (std::sqrt(v[x]) + c.eps);
  }
}

void adagrad_row(float* __restrict p, const float* __restrict g, float* __restrict sum, int64_t n,
                 const detail::AdagradCoeffs<float>& c) {
  int64_t x = 0;
#if defined(__AVX__)
  const __m256 lr = _mm256_set1_ps(c.lr), eps = _mm256_set1_ps(c.eps);
  for (; x + 8 <= n; x += 8) {
    const __m256 gx = _mm256_loadu_ps(g + x);
    const __m256 sx = _mm256_add_ps(_mm256_loadu_ps(sum + x), _mm256_mul_ps(gx, gx));
    const __m256 update = _mm256_div_ps(_mm256_mul_ps(lr, gx), _mm256_add_ps(_mm256_sqrt_ps(sx), eps));
    _mm256_storeu_ps(sum + x, sx);
    _mm256_storeu_ps(p + x, _mm256_sub_ps(_mm256_loadu_ps(p + x), update));
  }
#endif
  for (; x < n; ++x) {
    sum[x] = sum[x] + g[x] * g[x];
    p[x] = p[x] - c.lr * g[x] / (std::sqrt(sum[x]) + c.eps);
  }
}

void sgd_row(float* __restrict p, const float* __restrict g, int64_t n, float lr) {
  for (int64_t x = 0; x < n; ++x) p[x] = p[x] - lr * g[x];
}

// Elements in one row of a table: a bias [I] is the table [I, 1].
int64_t row_width(const Tensor& table) { return table.dim() == 2 ? table.size(1) : 1; }

}  // namespace

RowOptimizer::RowOptimizer(const std::string& kind, double lr, std::vector<std::pair<std::string, Tensor>> tables,
                           const HalfRounding& rounding)
    : kind_(kind), lr_(lr), rounding_(rounding) {
  AISLE_CHECK(kind == "adam" || kind == "sgd" || kind == "adagrad" || kind == "rowwise_adagrad",
              "bpr: unknown optimizer '", kind, "'");
  for (auto& [name, param] : tables) {
    const bool half = param.dtype() == DType::bf16 || param.dtype() == DType::f16;
    AISLE_CHECK((param.dtype() == DType::f32 && (param.dim() == 1 || param.dim() == 2)) || (half && param.dim() == 2),
                "bpr: table '", name, "' must be 1-D or 2-D f32, or 2-D bf16/f16, got ", param.describe());
    AISLE_CHECK(!half || fuses_occurrences(), "bpr: table '", name, "' is stored in ", dtype_name(param.dtype()),
                ", which train.optimizer ", kind, " cannot update: use adam or rowwise_adagrad");
    Table t{name, param, {}, {}};
    if (kind == "rowwise_adagrad") t.first = Tensor::zeros({param.size(0)}, DType::f32, param.device());
    else if (kind != "sgd") t.first = Tensor::zeros(param.shape(), DType::f32, param.device());
    if (kind == "adam") t.second = Tensor::zeros(param.shape(), DType::f32, param.device());
    tables_.push_back(std::move(t));
  }
}

void RowOptimizer::check_count(size_t grads) const {
  AISLE_CHECK(grads == tables_.size(), "bpr: ", grads, " gradients for ", tables_.size(), " tables");
}

void RowOptimizer::step(const std::vector<ops::SparseRows>& grads) {
  check_count(grads.size());
  const ops::SparseAdamHyper adam{.lr = lr_, .step = steps_ + 1};
  const ops::AdagradHyper adagrad{.lr = lr_};
  const ops::RowWiseAdagradHyper rowwise{.lr = lr_};
  for (size_t t = 0; t < tables_.size(); ++t) {
    Table& table = tables_[t];
    const ops::SparseRows& g = grads[t];
    if (table.param.dtype() != DType::f32) {
      fused_update(t, g, steps_ + 1);  // a 16-bit table: coalesced rows are bags of one id too
      continue;
    }
    if (table.param.is_cuda()) {
      if (kind_ == "adam") ops::sparse_adam_update(table.param, g, table.first, table.second, adam);
      else if (kind_ == "adagrad") ops::sparse_adagrad_update(table.param, g, table.first, adagrad);
      else if (kind_ == "rowwise_adagrad") ops::rowwise_adagrad_update(table.param, g, table.first, rowwise);
      else ops::sparse_sgd_update(table.param, g, lr_);
      continue;
    }
    const int64_t rows = g.indices.numel();
    const int64_t width = rows == 0 ? 0 : g.rows.numel() / rows;
    const int64_t table_rows = table.param.size(0);
    AISLE_CHECK(width == table.param.numel() / std::max<int64_t>(table_rows, 1) || rows == 0, "bpr: gradient rows of ",
                width, " elements for table '", table.name, "'");
    const int64_t* ids = g.indices.data<int64_t>();
    for (int64_t r = 0; r < rows; ++r)
      AISLE_CHECK(ids[r] >= 0 && ids[r] < table_rows && (r == 0 || ids[r] > ids[r - 1]), "bpr: gradient id ", ids[r],
                  " at ", r, " of table '", table.name, "' is out of range or not strictly increasing");
    float* p = table.param.data<float>();
    const float* grad = rows == 0 ? nullptr : g.rows.data<float>();
    float* first = table.first.defined() ? table.first.data<float>() : nullptr;
    float* second = table.second.defined() ? table.second.data<float>() : nullptr;
    const auto adam_c = detail::sparse_adam_coeffs<float>(adam);
    const auto adagrad_c = detail::adagrad_coeffs<float>(adagrad);
    const auto rowwise_c = detail::rowwise_adagrad_coeffs<float>(rowwise);
    const bool per_row_state = kind_ == "rowwise_adagrad";
    const float lr = static_cast<float>(lr_);
    // Chunks of ~64K elements: a thread's start-up is not worth less on a busy machine.
    cpu::parallel_for(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(width, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        // Touched rows are scattered over tables larger than the cache: ask for them early.
        if (r + cpu::kPrefetchDistance < r1) {
          const int64_t ahead = ids[r + cpu::kPrefetchDistance] * width;
          const size_t bytes = static_cast<size_t>(width) * sizeof(float);
          cpu::prefetch_row(p + ahead, bytes);
          if (first && !per_row_state) cpu::prefetch_row(first + ahead, bytes);
          if (second) cpu::prefetch_row(second + ahead, bytes);
        }
        const int64_t at = ids[r] * width;
        const float* gr = grad + r * width;
        if (kind_ == "adam") adam_row(p + at, gr, first + at, second + at, width, adam_c);
        else if (kind_ == "adagrad") adagrad_row(p + at, gr, first + at, width, adagrad_c);
        else if (per_row_state) detail::rowwise_adagrad_row(p + at, gr, first[ids[r]], width, rowwise_c);
        else sgd_row(p + at, gr, width, lr);
      }
    });
  }
  ++steps_;
}

void RowOptimizer::step_occurrences(const std::vector<ops::SparseRows>& occurrences) {
  check_count(occurrences.size());
  if (!fuses_occurrences()) {
    std::vector<ops::SparseRows> coalesced;
    for (const ops::SparseRows& o : occurrences) coalesced.push_back(ops::coalesce_rows(o.indices, o.rows));
    step(coalesced);
    return;
  }
  for (size_t t = 0; t < tables_.size(); ++t) {
    const ops::SparseRows& o = occurrences[t];
    AISLE_CHECK(o.indices.defined() && o.rows.defined() && o.indices.dim() == 1, "bpr: occurrence gradient of table '",
                tables_[t].name, "' needs 1-D ids and their rows");
    const int64_t n = o.indices.numel(), width = row_width(tables_[t].param);
    AISLE_CHECK(o.rows.numel() == n * width, "bpr: ", n, " occurrences of table '", tables_[t].name,
                "' come with rows ", o.rows.describe(), ", expected [", n, ", ", width, "]");
  }
  const int64_t step = steps_ + 1;
  for (size_t t = 0; t < tables_.size(); ++t) fused_update(t, occurrences[t], step);
  steps_ = step;
}

void RowOptimizer::fused_update(size_t t, const ops::SparseRows& rows, int64_t step) {
  Table& table = tables_[t];
  // Each row is a bag of one id.
  const int64_t n = rows.indices.numel(), width = row_width(table.param);
  const ops::BagGradient bags{.ids = rows.indices,
                              .offsets = Tensor::arange(n + 1, DType::i64, rows.indices.device()),
                              .dy = rows.rows.reshape({n, width}),
                              .mode = ops::BagMode::sum,
                              .per_sample_weights = {}};
  // Tables draw their rounding words independently of each other and of earlier steps.
  const HalfRounding rounding{.stochastic = rounding_.stochastic,
                              .seed = rounding_.seed ^ (0x9e3779b97f4a7c15ull * (t + 1)),
                              .step = static_cast<uint64_t>(step)};
  Tensor param = table.param.reshape({table.param.size(0), width});
  if (kind_ == "adam") {
    Tensor m = table.first.reshape(param.shape()), v = table.second.reshape(param.shape());
    ops::embedding_bag_sparse_adam_step(param, m, v, bags, ops::SparseAdamHyper{.lr = lr_, .step = step}, rounding);
  } else {
    ops::embedding_bag_rowwise_adagrad_step(param, table.first, bags, ops::RowWiseAdagradHyper{.lr = lr_}, rounding);
  }
}

std::vector<std::pair<std::string, Tensor>> RowOptimizer::state() const {
  std::vector<std::pair<std::string, Tensor>> s{{"step", Tensor::scalar<int64_t>(steps_)}};
  for (const Table& t : tables_) {
    if (kind_ == "adam") {
      s.emplace_back(t.name + ".exp_avg", t.first);
      s.emplace_back(t.name + ".exp_avg_sq", t.second);
    } else if (kind_ == "adagrad") {
      s.emplace_back(t.name + ".sum", t.first);
    } else if (kind_ == "rowwise_adagrad") {
      s.emplace_back(t.name + ".row_sum", t.first);
    }
  }
  return s;
}

void RowOptimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  const auto mine = this->state();
  AISLE_CHECK(state.size() == mine.size(), "bpr: optimizer state has ", state.size(), " tensors, expected ",
              mine.size());
  for (size_t e = 0; e < mine.size(); ++e) {
    const auto& [name, tensor] = state[e];
    AISLE_CHECK(name == mine[e].first, "bpr: optimizer state entry ", e, " is '", name, "', expected '",
                mine[e].first, "'");
    AISLE_CHECK(tensor.dtype() == mine[e].second.dtype() && tensor.numel() == mine[e].second.numel() &&
                    (e == 0 || tensor.shape() == mine[e].second.shape()),
                "bpr: optimizer state tensor '", name, "' is ", tensor.describe(), ", expected ",
                mine[e].second.describe());
  }
  const int64_t steps = state[0].second.to(Device::cpu()).item<int64_t>();
  AISLE_CHECK(steps >= 0, "bpr: optimizer state 'step' is negative (", steps, ")");
  for (size_t e = 1; e < mine.size(); ++e) {
    Tensor target = mine[e].second;
    target.copy_(state[e].second);
  }
  steps_ = steps;
}

}  // namespace aisle::models::bpr
