#include "support/testing.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/ops/random.hpp"

namespace aisle::testing {

uint64_t fresh_seed() {
  uint64_t seed;
  if (const char* env = std::getenv("AISLE_TEST_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) | rd();
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::printf("[   SEED   ] %s.%s: AISLE_TEST_SEED=%llu\n", info ? info->test_suite_name() : "?",
              info ? info->name() : "?", static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string artifact_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const ArtifactError& e) {
    return e.what();
  } catch (const Error& e) {
    ADD_FAILURE() << "expected an aisle::ArtifactError, got another aisle::Error: " << e.what();
    return std::string("(not an ArtifactError) ") + e.what();
  }
  return "(no error)";
}

Tensor random_tensor(const Shape& shape, Generator& gen, DType dtype, double low, double high) {
  return ops::uniform(shape, gen, low, high, dtype);
}

Tensor random_ids(const Shape& shape, int64_t bound, Generator& gen, DType dtype) {
  return ops::randint(shape, 0, bound, gen, dtype);
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol,
                                     double atol) {
  if (!actual.defined() || !expected.defined())
    return ::testing::AssertionFailure() << "undefined tensor: actual " << actual.describe()
                                         << ", expected " << expected.describe();
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape mismatch: actual " << actual.describe()
                                         << ", expected " << expected.describe();
  const std::vector<double> a = actual.to_doubles(), e = expected.to_doubles();
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool ok = (std::isnan(a[i]) && std::isnan(e[i])) ||
                    (a[i] == e[i]) ||  // infinities
                    std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]);
    if (!ok && bad++ == 0) first = static_cast<int64_t>(i);
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << a.size() << " elements differ (rtol " << rtol << ", atol " << atol
         << "); first at flat index " << first << ": actual " << a[static_cast<size_t>(first)]
         << ", expected " << e[static_cast<size_t>(first)] << " (" << actual.describe() << ")";
}

double relative_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to_doubles(), e = expected.to_doubles();
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - e[i]) * (a[i] - e[i]);
    den += e[i] * e[i];
  }
  if (den == 0) return num == 0 ? 0.0 : std::sqrt(num);
  return std::sqrt(num / den);
}

Tensor dense_from_rows(const std::vector<ops::SparseRows>& pieces, const Shape& shape) {
  Tensor out = Tensor::zeros(shape, DType::f64);
  double* po = out.data<double>();
  const int64_t row = shape.empty() || shape[0] == 0 ? 0 : shape_numel(shape) / shape[0];
  for (const auto& piece : pieces) {
    const std::vector<double> rows = piece.rows.to_doubles();
    const std::vector<int64_t> ids = piece.indices.to(Device::cpu()).to_vector<int64_t>();
    for (size_t i = 0; i < ids.size(); ++i)
      for (int64_t c = 0; c < row; ++c) po[ids[i] * row + c] += rows[i * static_cast<size_t>(row) + static_cast<size_t>(c)];
  }
  return out;
}

Tensor dense_grad(const Var& v) {
  Tensor g = Tensor::zeros(v.shape(), DType::f64);
  if (v.grad().defined()) g = v.grad().to(Device::cpu()).to(DType::f64);
  if (!v.sparse_grad().empty()) {
    const Tensor rows = dense_from_rows(v.sparse_grad(), v.shape());
    double* pg = g.data<double>();
    const double* pr = rows.data<double>();
    for (int64_t i = 0; i < g.numel(); ++i) pg[i] += pr[i];
  }
  return g;
}

namespace {

double weighted_sum(const Tensor& out, const std::vector<double>& weights) {
  const std::vector<double> o = out.to_doubles();
  double s = 0;
  for (size_t i = 0; i < o.size(); ++i) s += o[i] * weights[i];
  return s;
}

}  // namespace

::testing::AssertionResult gradients_match(const VarFn& f, const std::vector<Tensor>& inputs,
                                           const GradcheckOptions& opt) {
  std::vector<Tensor> xs;
  std::vector<bool> diff;
  for (size_t i = 0; i < inputs.size(); ++i) {
    xs.push_back(inputs[i].clone());
    const bool d = i < opt.differentiable.size() ? opt.differentiable[i] : is_floating(inputs[i].dtype());
    if (d && inputs[i].dtype() != DType::f64)
      return ::testing::AssertionFailure() << "gradcheck needs f64 inputs; input " << i << " is "
                                           << inputs[i].describe();
    diff.push_back(d);
  }
  std::vector<Var> vars;
  for (size_t i = 0; i < xs.size(); ++i) {
    Var v(xs[i], diff[i]);
    if (i < opt.sparse.size() && opt.sparse[i]) v.set_sparse(true);
    vars.push_back(v);
  }
  Var out = f(vars);
  if (!out.requires_grad())
    return ::testing::AssertionFailure() << "output " << out.describe()
                                         << " does not depend on any differentiable input";
  Generator gen(opt.seed);
  const Tensor weights = ops::uniform(out.shape(), gen, -1.0, 1.0, DType::f64);
  out.backward(weights);
  const std::vector<double> w = weights.to_doubles();

  auto loss = [&] {
    NoGradGuard no_grad;
    std::vector<Var> plain(xs.begin(), xs.end());
    return weighted_sum(f(plain).value(), w);
  };

  std::ostringstream failures;
  int64_t bad = 0, checked = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!diff[i]) continue;
    const std::vector<double> analytic = dense_grad(vars[i]).to_doubles();
    double* p = xs[i].data<double>();
    for (int64_t j = 0; j < xs[i].numel(); ++j) {
      const double orig = p[j];
      p[j] = orig + opt.eps;
      const double up = loss();
      p[j] = orig - opt.eps;
      const double down = loss();
      p[j] = orig;
      const double numeric = (up - down) / (2 * opt.eps);
      const double a = analytic[static_cast<size_t>(j)];
      ++checked;
      if (!(std::fabs(a - numeric) <= opt.atol + opt.rtol * std::fabs(numeric))) {
        if (bad++ < 5)
          failures << "\n  input " << i << " element " << j << ": analytic " << a << ", numeric "
                   << numeric;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess() << checked << " partial derivatives match";
  return ::testing::AssertionFailure() << bad << " of " << checked
                                       << " partial derivatives differ:" << failures.str();
}

std::vector<Tensor> value_and_grads(const VarFn& f, const std::vector<Tensor>& inputs, Device device,
                                    uint64_t seed) {
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t.to(device), is_floating(t.dtype()));
  Var out = f(vars);
  std::vector<Tensor> result{out.value().to(Device::cpu())};
  if (out.requires_grad()) {
    Generator gen(seed);
    out.backward(ops::uniform(out.shape(), gen, -1.0, 1.0, out.dtype()).to(device));
  }
  for (const Var& v : vars)
    if (v.requires_grad()) result.push_back(dense_grad(v));
  return result;
}

::testing::AssertionResult cuda_matches_cpu(const VarFn& f, const std::vector<Tensor>& inputs,
                                            double rtol, double atol) {
  const std::vector<Tensor> on_cpu = value_and_grads(f, inputs, Device::cpu());
  const std::vector<Tensor> on_gpu = value_and_grads(f, inputs, gpu());
  if (on_cpu.size() != on_gpu.size())
    return ::testing::AssertionFailure() << "CPU gave " << on_cpu.size() << " results, CUDA " << on_gpu.size();
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    auto r = all_close(on_gpu[i], on_cpu[i], rtol, atol);
    if (!r) return ::testing::AssertionFailure() << (i == 0 ? "output" : "gradient " + std::to_string(i - 1))
                                                 << ": " << r.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace aisle::testing
