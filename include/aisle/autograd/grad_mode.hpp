#pragma once

namespace aisle {

// Whether ops record a graph (per thread). Off inside a NoGradGuard: evaluation, optimizer
// updates and target networks run without building graphs.
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace aisle
