#pragma once

// Whether GPU reductions of duplicate rows must sum in a fixed order (the default, and what every
// CPU kernel always does). With it off, ops::scatter_add on CUDA (the dense gradient of a lookup:
// autograd's gather_rows / embedding backward into a dense parameter, dense optimizers over
// sparse gradients) adds with atomics instead of sorting first: faster, but the summation order,
// and so the last bits, can change from run to run, and CUDA no longer matches the CPU bit for
// bit. Sparse optimizers and the fused embedding steps always sort (they need each row's whole
// gradient at once). Process-wide, like torch.use_deterministic_algorithms; recipes set it with
// train.deterministic.
namespace aisle {

void set_deterministic(bool on);
bool deterministic();

// Sets the mode for a scope and restores the previous one.
class DeterministicGuard {
 public:
  explicit DeterministicGuard(bool on) : previous_(deterministic()) { set_deterministic(on); }
  ~DeterministicGuard() { set_deterministic(previous_); }
  DeterministicGuard(const DeterministicGuard&) = delete;
  DeterministicGuard& operator=(const DeterministicGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace aisle
