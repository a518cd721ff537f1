#pragma once
// Helpers shared by the test suite.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "aisle/autograd/var.hpp"
#include "aisle/device/cuda.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

// Expects `message` (a std::string) to contain `text`, printing the message when it does not.
#define EXPECT_MESSAGE_HAS(message, text) \
  EXPECT_NE((message).find(text), std::string::npos) << "message: " << (message)

// Skips the current test cleanly on machines (and builds) with no usable GPU.
#define AISLE_SKIP_WITHOUT_CUDA()                                                        \
  do {                                                                                   \
    if (!::aisle::cuda::is_available())                                                  \
      GTEST_SKIP() << "no CUDA device: " << ::aisle::cuda::unavailable_reason();         \
  } while (0)

namespace aisle::testing {

inline Device gpu() { return Device::cuda(0); }

// Seed for CUDA parity tests: fresh on every run, because a kernel must match its CPU twin on any
// input, not on one lucky draw. It is printed; set AISLE_TEST_SEED=<seed> to replay a failure.
uint64_t fresh_seed();

// Uniform values in [low, high) on the CPU (f32 or f64), from a Generator the test seeds.
Tensor random_tensor(const Shape& shape, Generator& gen, DType dtype = DType::f64,
                     double low = -1.0, double high = 1.0);
// Random ids in [0, bound) (i64 by default).
Tensor random_ids(const Shape& shape, int64_t bound, Generator& gen, DType dtype = DType::i64);

// Elementwise |a - b| <= atol + rtol * |b| on any devices/dtypes; NaN only matches NaN. Reports
// the first mismatching element and the count.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected,
                                     double rtol = 1e-5, double atol = 1e-7);
// ||a - b|| / ||b|| (0 when both are zero).
double relative_error(const Tensor& actual, const Tensor& expected);

// Dense view of accumulated row gradients (computed with a plain host loop, independent of the
// kernels under test).
Tensor dense_from_rows(const std::vector<ops::SparseRows>& rows, const Shape& shape);
// The gradient a Var holds, dense or sparse, as a dense CPU tensor (zeros if none).
Tensor dense_grad(const Var& v);

// The message of the aisle::Error that f throws, or "(no error)" when it throws none.
std::string error_message(const std::function<void()>& f);
// The same for errors that must be aisle::ArtifactError (a bad file, the CLI's exit code 3):
// "(no error)" when f throws none; another kind of Error fails the calling test.
std::string artifact_error_message(const std::function<void()>& f);

// ---- gradient checking -------------------------------------------------------------------
struct GradcheckOptions {
  double eps = 1e-6;
  double rtol = 1e-5;
  double atol = 1e-8;
  std::vector<bool> differentiable;  // per input; default: every floating input
  std::vector<bool> sparse;          // per input: mark as a sparse leaf
  uint64_t seed = 1234;
};

using VarFn = std::function<Var(const std::vector<Var>&)>;

// Checks f's analytic gradients against central finite differences in float64 on the CPU.
// The scalar checked is sum(f(inputs) * R) for a fixed random R, so every output element counts.
::testing::AssertionResult gradients_match(const VarFn& f, const std::vector<Tensor>& inputs,
                                           const GradcheckOptions& options = {});

// Runs f on `device` (inputs copied there) and returns, on the CPU, the output followed by the
// gradient of each floating input for a random output gradient drawn from `seed`.
std::vector<Tensor> value_and_grads(const VarFn& f, const std::vector<Tensor>& inputs,
                                    Device device, uint64_t seed = 99);

// Compares value_and_grads on the CPU and on cuda:0. Call AISLE_SKIP_WITHOUT_CUDA() first.
::testing::AssertionResult cuda_matches_cpu(const VarFn& f, const std::vector<Tensor>& inputs,
                                            double rtol = 1e-5, double atol = 1e-6);

}  // namespace aisle::testing
