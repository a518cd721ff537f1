#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>

// Training progress on stderr: a bar redrawn in place on a terminal (step, loss, throughput,
// ETA), plain lines every `interval` seconds otherwise (logs, CI), so both read well.
namespace aisle::train {

class Progress {
 public:
  Progress(std::FILE* out, double interval_seconds);
  // Called after every step; draws when due. `epochs` counts all epochs of the run.
  void update(int64_t epoch, int64_t epochs, int64_t step, int64_t steps, double loss, double examples_per_second,
              double eta_seconds);
  void finish_line();  // ends an in-place bar before other output

 private:
  std::FILE* out_;
  bool terminal_;
  double interval_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace aisle::train
