// Vector arithmetic is written as plain loops with fixed accumulator lanes so the compiler
// vectorises it while the summation order stays fixed by the code (never by the pointer alignment
// or the thread), which keeps every solve bit-reproducible.
#define EIGEN_DONT_PARALLELIZE  // one vector per thread; Eigen must not start threads of its own
#include "src/models/implicit_als/cpu_solver.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "aisle/core/error.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"

namespace aisle::models::als {

namespace {

template <int kLanes = 16>
[[gnu::always_inline]] inline float dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  const int64_t full = n / kLanes * kLanes;
  for (int64_t i = 0; i < full; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (int64_t i = full; i < n; ++i) tail += a[i] * b[i];
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j) acc[j] += acc[j + width];
  return acc[0] + tail;
}

// y += a * x
[[gnu::always_inline]] inline void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Rows solved in lockstep: one pass over the Gram matrix serves kGroup vectors, which matters
// once F x F floats no longer fit in L1 (F = 128: 64 KiB per product).
constexpr int kGroup = 4;

// out[g] = G v[g] for kGroup vectors and a symmetric G, each element summed over k = 0..n-1 in
// order (G's rows are contiguous, so it vectorises without a reduction). A vector's result does
// not depend on the others in the group.
// GCC/Clang vector extension: 8 floats, plain (unfused) multiply and add on any x86 target.
using Vec8 = float __attribute__((vector_size(32)));
inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int64_t kFactors>
void gram_times_group(const float* gram, const float* const (&v)[kGroup], float* const (&out)[kGroup],
                      int64_t runtime_n) {
  const int64_t n = kFactors > 0 ? kFactors : runtime_n;
  constexpr int64_t kCols = 16;  // kGroup x 16 columns of accumulators: 8 AVX registers
  for (int64_t c0 = 0; c0 < n; c0 += kCols) {
    float acc[kGroup][kCols] = {};
    const int64_t width = std::min(kCols, n - c0);
    if (width == kCols) {
      Vec8 lo[kGroup] = {}, hi[kGroup] = {};
      for (int64_t k = 0; k < n; ++k) {
        const Vec8 g_lo = load8(gram + k * n + c0), g_hi = load8(gram + k * n + c0 + 8);
        for (int g = 0; g < kGroup; ++g) {
          const float b = v[g][k];
          lo[g] += b * g_lo;
          hi[g] += b * g_hi;
        }
      }
      for (int g = 0; g < kGroup; ++g) {
        std::memcpy(acc[g], &lo[g], sizeof(Vec8));
        std::memcpy(acc[g] + 8, &hi[g], sizeof(Vec8));
      }
    } else {
      for (int64_t k = 0; k < n; ++k)
        for (int g = 0; g < kGroup; ++g)
          for (int64_t j = 0; j < width; ++j) acc[g][j] += v[g][k] * gram[k * n + c0 + j];
    }
    for (int g = 0; g < kGroup; ++g) std::copy(acc[g], acc[g] + width, out[g] + c0);
  }
}

// Row ranges of roughly equal work, fixed by the data alone: parallel_for hands each thread a
// contiguous run of blocks, and rows differ a lot in length (a few heavy users).
std::vector<int64_t> balanced_blocks(const ConfidenceRows& conf, int64_t factors) {
  constexpr int64_t kBlocks = 512;
  const int64_t per_row = std::max<int64_t>(1, factors / 2);  // the Gram product, in entry units
  const double total = static_cast<double>(conf.nnz() + conf.rows * per_row);
  const int64_t blocks = std::max<int64_t>(1, std::min(kBlocks, conf.rows));
  std::vector<int64_t> bounds{0};
  double done = 0;
  for (int64_t r = 0; r < conf.rows; ++r) {
    done += static_cast<double>(conf.degree(r) + per_row);
    const auto block = static_cast<int64_t>(bounds.size());
    if (block < blocks && done >= total * static_cast<double>(block) / static_cast<double>(blocks))
      bounds.push_back(r + 1);
  }
  if (bounds.back() != conf.rows) bounds.push_back(conf.rows);
  return bounds;
}

// Runs solve_rows(row_begin, row_end) -> double over the blocks in parallel and adds the blocks'
// results in block order.
template <class SolveRows>
double over_blocks(const HalfStep& h, SolveRows&& solve_rows) {
  const std::vector<int64_t> bounds = balanced_blocks(*h.conf, h.factors);
  const auto blocks = static_cast<int64_t>(bounds.size()) - 1;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  cpu::parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      partial[static_cast<size_t>(b)] = solve_rows(bounds[static_cast<size_t>(b)], bounds[static_cast<size_t>(b) + 1]);
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

// sum over the row's cells of c (1 - s)^2 - s^2 for the solved vector x.
double observed_loss(const HalfStep& h, int64_t row, const float* x) {
  const ConfidenceRows& conf = *h.conf;
  const int64_t f = h.factors;
  double sum = 0;
  for (int64_t e = conf.offsets[static_cast<size_t>(row)]; e < conf.offsets[static_cast<size_t>(row) + 1]; ++e) {
    const double s = dot(h.fixed + int64_t{conf.columns[static_cast<size_t>(e)]} * f, x, f);
    const double c = 1.0 + static_cast<double>(conf.extra[static_cast<size_t>(e)]);
    sum += c * (1.0 - s) * (1.0 - s) - s * s;
  }
  return sum;
}

}  // namespace

namespace {

// The solves of rows [row_begin, row_end). kFactors > 0 fixes the vector length at compile time
// (fully unrolled loops, accumulators in registers); 0 reads it from h. Same arithmetic either way.
template <int64_t kFactors>
double cg_rows(const HalfStep& h, float* solved, int64_t cg_steps, int64_t row_begin, int64_t row_end) {
  const ConfidenceRows& conf = *h.conf;
  const int64_t f = kFactors > 0 ? kFactors : h.factors;
  // More independent partial sums for long vectors: shorter add chains per dot product.
  constexpr int kLanes = kFactors >= 64 && kFactors % 32 == 0 ? 32 : 16;
  const auto dot = [](const float* a, const float* b, int64_t n) { return als::dot<kLanes>(a, b, n); };
  const float* y = h.fixed;
  // Below this squared residual a vector has converged (the `implicit` package's threshold).
  constexpr float kConverged = 1e-20f;

  // One solve in progress. Per cell of its row it keeps s = y.x up to date as x moves (x += a p
  // gives s += a y.p), so the loss needs no extra pass over the rows of Y.
  struct Solve {
    float* x = nullptr;
    float *r = nullptr, *p = nullptr, *ap = nullptr;
    const int32_t* cols = nullptr;
    const float* w = nullptr;  // c - 1 per cell
    int64_t n = 0;
    float rs_old = 0;
    bool active = false;
    std::vector<float> xy, py;  // per cell: y.x and y.p of the current step
  };
  std::vector<float> scratch(static_cast<size_t>((3 * kGroup + 2) * f), 0.0f);
  Solve group[kGroup];
  for (int g = 0; g < kGroup; ++g) {
    group[g].r = scratch.data() + (3 * g) * f;
    group[g].p = group[g].r + f;
    group[g].ap = group[g].p + f;
  }
  const float* zeros = scratch.data() + 3 * kGroup * f;  // stands in for missing group members
  float* discard = scratch.data() + (3 * kGroup + 1) * f;

  // Sparse part of a product for one solve: out += Y^T (C - I) Y v, with dots[k] = y_k . v.
  // Two cells at a time: their dot products are independent chains the core overlaps.
  auto sparse_times = [&](const Solve& s, const float* v, float* dots, float* out, bool residual) {
    auto prefetch = [&](int64_t k) {
      if (residual && k < s.n) cpu::prefetch_row(y + int64_t{s.cols[k]} * f, static_cast<size_t>(f) * sizeof(float));
    };
    // The residual's pass also adds b = Y^T C 1: coefficient c - (c - 1) y.x instead of -(c - 1) y.x,
    // with the sign of out flipped by the caller.
    auto coefficient = [&](int64_t k, float d) { return residual ? (1.0f + s.w[k]) - s.w[k] * d : s.w[k] * d; };
    int64_t k = 0;
    for (; k + 2 <= s.n; k += 2) {
      prefetch(k + cpu::kPrefetchDistance);
      prefetch(k + 1 + cpu::kPrefetchDistance);
      const float* y0 = y + int64_t{s.cols[k]} * f;
      const float* y1 = y + int64_t{s.cols[k + 1]} * f;
      const float d0 = dot(y0, v, f), d1 = dot(y1, v, f);
      dots[k] = d0;
      dots[k + 1] = d1;
      axpy(coefficient(k, d0), y0, out, f);
      axpy(coefficient(k + 1, d1), y1, out, f);
    }
    for (; k < s.n; ++k) {
      const float* yk = y + int64_t{s.cols[k]} * f;
      dots[k] = dot(yk, v, f);
      axpy(coefficient(k, dots[k]), yk, out, f);
    }
  };

  double loss = 0;
  int64_t row = row_begin;
  while (row < row_end) {
    int members = 0;
    for (; members < kGroup && row < row_end; ++row) {
      const int64_t e0 = conf.offsets[static_cast<size_t>(row)], e1 = conf.offsets[static_cast<size_t>(row) + 1];
      float* x = solved + row * f;
      if (e0 == e1) {
        std::fill(x, x + f, 0.0f);
        continue;
      }
      Solve& s = group[members++];
      s.x = x;
      s.cols = conf.columns.data() + e0;
      s.w = conf.extra.data() + e0;
      s.n = e1 - e0;
      s.xy.resize(static_cast<size_t>(s.n));
      s.py.resize(static_cast<size_t>(s.n));
    }
    if (members == 0) break;
    auto group_gram_times = [&](float* Solve::*in, float* Solve::*out) {
      const float* v[kGroup];
      float* o[kGroup];
      for (int g = 0; g < kGroup; ++g) {
        const bool used = g < members && group[g].active;
        v[g] = used ? group[g].*in : zeros;
        o[g] = used ? group[g].*out : discard;
      }
      gram_times_group<kFactors>(h.gram, v, o, f);
    };

    // r = b - A x = Y^T C 1 - gram x - Y^T (C - I) Y x
    for (int g = 0; g < kGroup; ++g) group[g].active = g < members;
    group_gram_times(&Solve::x, &Solve::r);
    for (int g = 0; g < members; ++g) {
      Solve& s = group[g];
      for (int64_t i = 0; i < f; ++i) s.r[i] = -s.r[i];
      sparse_times(s, s.x, s.xy.data(), s.r, true);
      std::copy(s.r, s.r + f, s.p);
      s.rs_old = dot(s.r, s.r, f);
      s.active = s.rs_old >= kConverged;
    }
    for (int64_t step = 0; step < cg_steps; ++step) {
      bool any = false;
      for (int g = 0; g < members; ++g) any = any || group[g].active;
      if (!any) break;
      group_gram_times(&Solve::p, &Solve::ap);
      for (int g = 0; g < members; ++g) {
        Solve& s = group[g];
        if (!s.active) continue;
        sparse_times(s, s.p, s.py.data(), s.ap, false);
        const float a = s.rs_old / dot(s.p, s.ap, f);
        axpy(a, s.p, s.x, f);
        axpy(a, s.py.data(), s.xy.data(), s.n);
        axpy(-a, s.ap, s.r, f);
        const float rs_new = dot(s.r, s.r, f);
        if (rs_new < kConverged) {
          s.active = false;
          continue;
        }
        const float beta = rs_new / s.rs_old;
        for (int64_t i = 0; i < f; ++i) s.p[i] = s.r[i] + beta * s.p[i];
        s.rs_old = rs_new;
      }
    }
    // sum over each row's cells of c (1 - s)^2 - s^2 for the solved x
    for (int g = 0; g < members; ++g) {
      const Solve& s = group[g];
      for (int64_t k = 0; k < s.n; ++k) {
        const double sk = s.xy[static_cast<size_t>(k)];
        loss += (1.0 + static_cast<double>(s.w[k])) * (1.0 - sk) * (1.0 - sk) - sk * sk;
      }
    }
  }
  return loss;
}

}  // namespace

double cg_half_step(const HalfStep& h, float* solved, int64_t cg_steps) {
  using Rows = double (*)(const HalfStep&, float*, int64_t, int64_t, int64_t);
  Rows rows = cg_rows<0>;
  switch (h.factors) {
    case 8: rows = cg_rows<8>; break;
    case 16: rows = cg_rows<16>; break;
    case 32: rows = cg_rows<32>; break;
    case 48: rows = cg_rows<48>; break;
    case 64: rows = cg_rows<64>; break;
    case 96: rows = cg_rows<96>; break;
    case 128: rows = cg_rows<128>; break;
    case 192: rows = cg_rows<192>; break;
    case 256: rows = cg_rows<256>; break;
    default: break;
  }
  return over_blocks(h, [&](int64_t row_begin, int64_t row_end) { return rows(h, solved, cg_steps, row_begin, row_end); });
}

double exact_half_step(const HalfStep& h, float* solved) {
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::VectorXd;
  const ConfidenceRows& conf = *h.conf;
  const int64_t f = h.factors;
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>> gram(h.gram, f, f);
  std::atomic<bool> singular{false};
  const double loss = over_blocks(h, [&](int64_t row_begin, int64_t row_end) {
    Matrix a(f, f), weighted;
    Vector b(f);
    Eigen::LLT<Matrix> llt(f);
    double loss = 0;
    for (int64_t row = row_begin; row < row_end; ++row) {
      float* x = solved + row * f;
      const int64_t e0 = conf.offsets[static_cast<size_t>(row)], e1 = conf.offsets[static_cast<size_t>(row) + 1];
      if (e0 == e1) {
        std::fill(x, x + f, 0.0f);
        continue;
      }
      // A = gram + sum_e (c_e - 1) y_e y_e^T as one product of the row's scaled vectors.
      weighted.resize(e1 - e0, f);
      b.setZero();
      for (int64_t e = e0; e < e1; ++e) {
        const float* ye = h.fixed + int64_t{conf.columns[static_cast<size_t>(e)]} * f;
        const double w = conf.extra[static_cast<size_t>(e)];
        const double scale = std::sqrt(w);
        for (int64_t k = 0; k < f; ++k) {
          weighted(e - e0, k) = scale * ye[k];
          b[k] += (1.0 + w) * ye[k];
        }
      }
      a = gram.cast<double>();
      a.noalias() += weighted.transpose() * weighted;
      llt.compute(a);
      if (llt.info() != Eigen::Success) singular = true;
      const Vector solution = llt.solve(b);
      for (int64_t k = 0; k < f; ++k) x[k] = static_cast<float>(solution[k]);
      loss += observed_loss(h, row, x);
    }
    return loss;
  });
  AISLE_CHECK(!singular, "als: a normal-equation matrix is not positive definite (model.reg is too small for "
              "these factors); raise model.reg");
  return loss;
}

}  // namespace aisle::models::als
