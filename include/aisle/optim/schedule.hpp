#pragma once
#include <cstdint>
#include <memory>

// Learning-rate schedules: pure functions of the step, so a resumed run needs only the optimizer's
// step count to continue on the same curve. `step` counts the updates already made (0 for the
// first update); the training loop does
//   optimizer.set_lr(schedule.lr_at(optimizer.step_count())); optimizer.step();
// Constructors throw aisle::Error on bad arguments; lr_at throws on a negative step.
namespace aisle::optim {

class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  virtual double lr_at(int64_t step) const = 0;
};

class ConstantLR : public LRSchedule {
 public:
  explicit ConstantLR(double lr);
  double lr_at(int64_t step) const override;

 private:
  double lr_;
};

// base_lr * gamma^floor(step / step_size).
class StepLR : public LRSchedule {
 public:
  StepLR(double base_lr, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_;
  int64_t step_size_;
  double gamma_;
};

// Cosine annealing from base_lr at step 0 to min_lr at total_steps, then min_lr:
// min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2.
class CosineLR : public LRSchedule {
 public:
  CosineLR(double base_lr, int64_t total_steps, double min_lr = 0.0);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_;
  int64_t total_steps_;
  double min_lr_;
};

// A linear ramp into another schedule: for step < warmup_steps,
//   after->lr_at(0) * (step + 1) / (warmup_steps + 1)
// (small but non-zero at step 0, so the first update is not wasted, and strictly increasing up to
// the hand-over), then after->lr_at(step - warmup_steps). warmup_steps = 0 is `after` itself.
class LinearWarmup : public LRSchedule {
 public:
  LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after);
  double lr_at(int64_t step) const override;

 private:
  int64_t warmup_steps_;
  std::shared_ptr<const LRSchedule> after_;
};

}  // namespace aisle::optim
