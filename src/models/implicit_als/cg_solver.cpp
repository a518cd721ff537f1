// The conjugate-gradient half-step (cpu_solver.hpp). Rows are solved in lockstep groups so that
// one pass over the Gram matrix serves several vectors; everything else is per row.
#include <algorithm>
#include <vector>

#include "src/core/prefetch.hpp"
#include "src/models/implicit_als/cpu_solver.hpp"
#include "src/models/implicit_als/row_blocks.hpp"
#include "src/models/implicit_als/vector_math.hpp"

namespace aisle::models::als {

namespace {

// Rows solved in lockstep: one pass over the Gram matrix serves kGroup vectors, which matters
// once F x F floats no longer fit in L1 (F = 128: 64 KiB per product).
constexpr int kGroup = 4;

// out[g] = G v[g] for kGroup vectors and a symmetric G, each element summed over k = 0..n-1 in
// order (G's rows are contiguous, so it vectorises without a reduction). A vector's result does
// not depend on the others in the group.
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

// The sparse part of a product for one row: out += sum over its cells of coef_k y_k, with
// dots[k] = y_k . v and coef_k = (c_k - 1) dots[k]; for the residual (kResidual) coef_k =
// c_k - (c_k - 1) dots[k], which also adds b = Y^T C 1 (the caller flips the sign of the rest).
// Two cells at a time: their dot products are independent chains the core overlaps.
template <int64_t kFactors, int kVecs, bool kResidual>
void sparse_times(const float* y, int64_t runtime_f, const int32_t* cols, const float* w, int64_t n, const float* v,
                  float* dots, float* out) {
  const int64_t f = kFactors > 0 ? kFactors : runtime_f;
  auto coefficient = [w](int64_t k, float d) { return kResidual ? (1.0f + w[k]) - w[k] * d : w[k] * d; };
  auto prefetch = [&](int64_t k) {  // the first pass brings the row's vectors in; later passes find them cached
    if (kResidual && k < n) cpu::prefetch_row(y + int64_t{cols[k]} * f, static_cast<size_t>(f) * sizeof(float));
  };
  int64_t k = 0;
  for (; k + 2 <= n; k += 2) {
    prefetch(k + cpu::kPrefetchDistance);
    prefetch(k + 1 + cpu::kPrefetchDistance);
    const float* y0 = y + int64_t{cols[k]} * f;
    const float* y1 = y + int64_t{cols[k + 1]} * f;
    const float d0 = dot<kVecs>(y0, v, f), d1 = dot<kVecs>(y1, v, f);
    dots[k] = d0;
    dots[k + 1] = d1;
    axpy(coefficient(k, d0), y0, out, f);
    axpy(coefficient(k + 1, d1), y1, out, f);
  }
  for (; k < n; ++k) {
    const float* yk = y + int64_t{cols[k]} * f;
    dots[k] = dot<kVecs>(yk, v, f);
    axpy(coefficient(k, dots[k]), yk, out, f);
  }
}

// The solves of rows [row_begin, row_end). kFactors > 0 fixes the vector length at compile time
// (fully unrolled loops, accumulators in registers); 0 reads it from h. Same arithmetic either way.
template <int64_t kFactors>
double cg_rows(const HalfStep& h, float* solved, int64_t cg_steps, int64_t row_begin, int64_t row_end) {
  const ConfidenceRows& conf = *h.conf;
  const int64_t f = kFactors > 0 ? kFactors : h.factors;
  // More independent partial sums for long vectors: shorter add chains per dot product.
  constexpr int kVecs = kFactors >= 64 && kFactors % 32 == 0 ? 4 : kFactors > 0 && kFactors < 16 ? 1 : 2;
  const auto dot = [](const float* a, const float* b, int64_t n) { return als::dot<kVecs>(a, b, n); };
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
      sparse_times<kFactors, kVecs, true>(y, f, s.cols, s.w, s.n, s.x, s.xy.data(), s.r);
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
        sparse_times<kFactors, kVecs, false>(y, f, s.cols, s.w, s.n, s.p, s.py.data(), s.ap);
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
  return over_blocks(*h.conf, h.factors, [&](int64_t row_begin, int64_t row_end) { return rows(h, solved, cg_steps, row_begin, row_end); });
}

}  // namespace aisle::models::als
