#include "src/models/implicit_als/batched_cg.hpp"

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/reduce.hpp"

namespace aisle::models::als {

DeviceRows to_device(const ConfidenceRows& m, Device device) {
  DeviceRows d;
  const Tensor row_ptr = Tensor::from_vector(m.offsets, device);
  const Tensor columns = Tensor::from_vector(m.columns, device);
  const Tensor extra = Tensor::from_vector(m.extra, device);
  d.extra = ops::make_csr(row_ptr, columns, extra, m.rows, m.cols);
  d.confidence = ops::affine(extra, 1.0, 1.0);
  std::vector<float> has(static_cast<size_t>(m.rows));
  for (int64_t r = 0; r < m.rows; ++r) has[static_cast<size_t>(r)] = m.degree(r) > 0 ? 1.0f : 0.0f;
  d.has_entries = Tensor::from_vector(has, {m.rows, 1}, device);
  return d;
}

double batched_cg_half_step(const DeviceRows& m, const Tensor& fixed, const Tensor& gram, Tensor solved,
                            int64_t cg_steps) {
  constexpr double kGuard = 1e-30;
  const Tensor& extra = m.extra.values;
  auto with_values = [&m](Tensor values) {
    ops::Csr c = m.extra;  // same validated structure, new values
    c.values = std::move(values);
    return c;
  };
  auto row_dot = [](const Tensor& a, const Tensor& b) { return ops::sum(ops::mul(a, b), 1, true); };
  // Y^T (C_u - I) Y v for every row's v at once.
  auto sparse_part = [&](const Tensor& v) {
    return ops::spmm(with_values(ops::mul(extra, ops::spmm_values_backward(m.extra, fixed, v))), fixed);
  };

  Tensor x = ops::mul(solved, m.has_entries);
  // r = Y^T C 1 - gram x - Y^T (C - I) Y x, with the two sparse sums in one product.
  const Tensor xy = ops::spmm_values_backward(m.extra, fixed, x);
  Tensor r = ops::sub(ops::spmm(with_values(ops::sub(m.confidence, ops::mul(extra, xy))), fixed), ops::matmul(x, gram));
  Tensor p = r;
  Tensor rs = row_dot(r, r);
  for (int64_t step = 0; step < cg_steps; ++step) {
    const Tensor ap = ops::add(ops::matmul(p, gram), sparse_part(p));
    const Tensor a = ops::div(rs, ops::affine(row_dot(p, ap), 1.0, kGuard));
    x = ops::add(x, ops::mul(a, p));
    r = ops::sub(r, ops::mul(a, ap));
    const Tensor rs_new = row_dot(r, r);
    p = ops::add(r, ops::mul(ops::div(rs_new, ops::affine(rs, 1.0, kGuard)), p));
    rs = rs_new;
  }
  solved.copy_(x);

  const Tensor s = ops::spmm_values_backward(m.extra, fixed, x);
  const Tensor miss = ops::unary(ops::Unary::square, ops::affine(s, -1.0, 1.0));
  const Tensor terms = ops::sub(ops::mul(m.confidence, miss), ops::unary(ops::Unary::square, s));
  return ops::sum_all(terms).to_doubles()[0];
}

}  // namespace aisle::models::als
