#include "aisle/optim/schedule.hpp"

#include <cmath>
#include <numbers>

#include "aisle/core/error.hpp"

namespace aisle::optim {

namespace {

void check_lr(const char* who, const char* field, double lr) {
  AISLE_CHECK(std::isfinite(lr) && lr >= 0.0, who, ": ", field, " must be finite and non-negative, got ", lr);
}

void check_step(const char* who, int64_t step) {
  AISLE_CHECK(step >= 0, who, ": step must be non-negative, got ", step);
}

}  // namespace

ConstantLR::ConstantLR(double lr) : lr_(lr) { check_lr("ConstantLR", "lr", lr); }

double ConstantLR::lr_at(int64_t step) const {
  check_step("ConstantLR", step);
  return lr_;
}

StepLR::StepLR(double base_lr, int64_t step_size, double gamma)
    : base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
  check_lr("StepLR", "base_lr", base_lr);
  AISLE_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  AISLE_CHECK(std::isfinite(gamma) && gamma > 0.0, "StepLR: gamma must be finite and positive, got ", gamma);
}

double StepLR::lr_at(int64_t step) const {
  check_step("StepLR", step);
  return base_lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

CosineLR::CosineLR(double base_lr, int64_t total_steps, double min_lr)
    : base_lr_(base_lr), total_steps_(total_steps), min_lr_(min_lr) {
  check_lr("CosineLR", "base_lr", base_lr);
  check_lr("CosineLR", "min_lr", min_lr);
  AISLE_CHECK(min_lr <= base_lr, "CosineLR: min_lr (", min_lr, ") must not exceed base_lr (", base_lr, ")");
  AISLE_CHECK(total_steps > 0, "CosineLR: total_steps must be positive, got ", total_steps);
}

double CosineLR::lr_at(int64_t step) const {
  check_step("CosineLR", step);
  if (step >= total_steps_) return min_lr_;
  const double t = static_cast<double>(step) / static_cast<double>(total_steps_);
  return min_lr_ + (base_lr_ - min_lr_) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
}

LinearWarmup::LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after)
    : warmup_steps_(warmup_steps), after_(std::move(after)) {
  AISLE_CHECK(warmup_steps >= 0, "LinearWarmup: warmup_steps must be non-negative, got ", warmup_steps);
  AISLE_CHECK(after_ != nullptr, "LinearWarmup: the schedule to warm up into is null");
}

double LinearWarmup::lr_at(int64_t step) const {
  check_step("LinearWarmup", step);
  if (step >= warmup_steps_) return after_->lr_at(step - warmup_steps_);
  return after_->lr_at(0) * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_ + 1);
}

}  // namespace aisle::optim
