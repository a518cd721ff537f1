#include <cmath>
#include <memory>
#include <numbers>

#include "aisle/aisle.hpp"
#include "aisle/optim/schedule.hpp"
#include "aisle/optim/sgd.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using optim::ConstantLR;
using optim::CosineLR;
using optim::LinearWarmup;
using optim::StepLR;

TEST(Schedule, ConstantAndStepValues) {
  const ConstantLR constant(0.25);
  EXPECT_EQ(constant.lr_at(0), 0.25);
  EXPECT_EQ(constant.lr_at(1000000), 0.25);

  const StepLR step(0.1, 10, 0.5);
  EXPECT_DOUBLE_EQ(step.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(step.lr_at(9), 0.1);
  EXPECT_DOUBLE_EQ(step.lr_at(10), 0.05);
  EXPECT_DOUBLE_EQ(step.lr_at(19), 0.05);
  EXPECT_DOUBLE_EQ(step.lr_at(25), 0.025);
  EXPECT_DOUBLE_EQ(StepLR(1.0, 3).lr_at(6), 0.01);  // default gamma 0.1
}

TEST(Schedule, CosineValues) {
  const CosineLR cosine(1.0, 100, 0.1);
  EXPECT_DOUBLE_EQ(cosine.lr_at(0), 1.0);
  EXPECT_DOUBLE_EQ(cosine.lr_at(50), 0.55);  // halfway: the mean of base and min
  EXPECT_DOUBLE_EQ(cosine.lr_at(25), 0.1 + 0.9 * (1 + std::cos(std::numbers::pi / 4)) / 2);
  EXPECT_NEAR(cosine.lr_at(100), 0.1, 1e-15);
  EXPECT_EQ(cosine.lr_at(150), 0.1);  // stays at min_lr after the end
  for (int64_t s = 1; s <= 100; ++s) EXPECT_LE(cosine.lr_at(s), cosine.lr_at(s - 1)) << s;
  EXPECT_NEAR(CosineLR(2.0, 10).lr_at(10), 0.0, 1e-15);  // default min_lr 0
}

TEST(Schedule, WarmupThenCosine) {
  const auto cosine = std::make_shared<CosineLR>(1.0, 100, 0.1);
  const LinearWarmup schedule(5, cosine);
  // Ramp: after(0) * (step + 1) / (warmup + 1): small but non-zero at step 0.
  EXPECT_DOUBLE_EQ(schedule.lr_at(0), 1.0 / 6);
  EXPECT_DOUBLE_EQ(schedule.lr_at(2), 3.0 / 6);
  EXPECT_DOUBLE_EQ(schedule.lr_at(4), 5.0 / 6);
  for (int64_t s = 1; s <= 5; ++s) EXPECT_GT(schedule.lr_at(s), schedule.lr_at(s - 1)) << s;
  // Then the cosine, shifted by the warmup.
  EXPECT_DOUBLE_EQ(schedule.lr_at(5), 1.0);
  EXPECT_DOUBLE_EQ(schedule.lr_at(55), 0.55);
  EXPECT_DOUBLE_EQ(schedule.lr_at(30), cosine->lr_at(25));
  EXPECT_EQ(schedule.lr_at(500), 0.1);
  // No warmup: the schedule itself.
  const LinearWarmup none(0, cosine);
  for (int64_t s : {0, 7, 100}) EXPECT_EQ(none.lr_at(s), cosine->lr_at(s));
  // Warmup into a step schedule ramps to its first value.
  const LinearWarmup into_step(3, std::make_shared<StepLR>(0.4, 2, 0.5));
  EXPECT_DOUBLE_EQ(into_step.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(into_step.lr_at(3), 0.4);
  EXPECT_DOUBLE_EQ(into_step.lr_at(5), 0.2);
}

// A schedule is a pure function of the step: a resumed run lands on the same curve.
TEST(Schedule, DrivesAnOptimizerFromItsStepCount) {
  const LinearWarmup schedule(2, std::make_shared<StepLR>(1.0, 2, 0.5));
  Var p = Var::parameter(Tensor::zeros({1}, DType::f64));
  optim::SGD sgd({p}, {.lr = 1.0});
  std::vector<double> seen;
  for (int k = 0; k < 6; ++k) {
    sgd.set_lr(schedule.lr_at(sgd.step_count()));
    seen.push_back(sgd.lr());
    p.set_grad(Tensor::ones({1}, DType::f64));
    sgd.step();
  }
  const std::vector<double> expected{1.0 / 3, 2.0 / 3, 1.0, 1.0, 0.5, 0.5};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(seen[i], expected[i]) << i;
  double moved = 0;
  for (double lr : expected) moved += lr;
  EXPECT_NEAR(p.value().item<double>(), -moved, 1e-15);
}

TEST(Schedule, BadArgumentsThrow) {
  const auto cosine = std::make_shared<CosineLR>(1.0, 10);
  EXPECT_THROW(ConstantLR(-0.1), Error);
  EXPECT_THROW(ConstantLR(NAN), Error);
  EXPECT_THROW(StepLR(0.1, 0, 0.5), Error);
  EXPECT_THROW(StepLR(0.1, 10, 0.0), Error);
  EXPECT_THROW(StepLR(-1, 10, 0.5), Error);
  EXPECT_THROW(CosineLR(1.0, 0), Error);
  EXPECT_THROW(CosineLR(0.1, 10, 0.2), Error);  // min above base
  EXPECT_THROW(CosineLR(0.1, 10, -0.1), Error);
  EXPECT_THROW(LinearWarmup(-1, cosine), Error);
  EXPECT_THROW(LinearWarmup(5, nullptr), Error);
  EXPECT_THROW(cosine->lr_at(-1), Error);
  EXPECT_THROW(LinearWarmup(5, cosine).lr_at(-3), Error);
  try {
    StepLR(0.1, -2, 0.5);
    FAIL() << "accepted a negative step_size";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("StepLR: step_size must be positive, got -2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace aisle
