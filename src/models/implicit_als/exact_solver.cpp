// The exact half-step (cpu_solver.hpp): each row's normal equations formed and solved by Cholesky.
#define EIGEN_DONT_PARALLELIZE  // one vector per thread; Eigen must not start threads of its own
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <atomic>
#include <cmath>

#include "aisle/core/error.hpp"
#include "src/models/implicit_als/cpu_solver.hpp"
#include "src/models/implicit_als/row_blocks.hpp"
#include "src/models/implicit_als/vector_math.hpp"

namespace aisle::models::als {

namespace {

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

double exact_half_step(const HalfStep& h, float* solved) {
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::VectorXd;
  const ConfidenceRows& conf = *h.conf;
  const int64_t f = h.factors;
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>> gram(h.gram, f, f);
  std::atomic<bool> singular{false};
  const double loss = over_blocks(conf, f, [&](int64_t row_begin, int64_t row_end) {
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
