#include "src/train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <string>

namespace aisle::train {
namespace {

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string rate_text(double per_second) {
  char buf[32];
  if (per_second >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", per_second / 1e6);
  else if (per_second >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", per_second / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", per_second);
  return buf;
}

}  // namespace

Progress::Progress(std::FILE* out, double interval_seconds)
    : out_(out), terminal_(out != nullptr && isatty(fileno(out)) != 0), interval_(interval_seconds) {}

void Progress::update(int64_t epoch, int64_t epochs, int64_t step, int64_t steps, double loss, double rate,
                      double eta) {
  if (!out_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool last_step = step + 1 == steps;
  if (terminal_ ? (since < 0.1 && !last_step) : (since < interval_ || interval_ <= 0)) return;
  last_ = now;
  const std::string loss_text = std::isfinite(loss) ? std::to_string(loss).substr(0, 8) : "-";
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = steps > 0 ? static_cast<int>(kWidth * (step + 1) / steps) : kWidth;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s] step %lld/%lld  loss %s  %s ex/s  ETA %s",
                 static_cast<long long>(epoch + 1), static_cast<long long>(epochs), bar.c_str(),
                 static_cast<long long>(step + 1), static_cast<long long>(steps), loss_text.c_str(),
                 rate_text(rate).c_str(), clock_text(eta).c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "epoch %lld/%lld step %lld/%lld loss %s %s ex/s eta %s\n", static_cast<long long>(epoch + 1),
                 static_cast<long long>(epochs), static_cast<long long>(step + 1), static_cast<long long>(steps),
                 loss_text.c_str(), rate_text(rate).c_str(), clock_text(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::finish_line() {
  if (drawn_ && out_) std::fputs("\r\033[K", out_);
  drawn_ = false;
}

}  // namespace aisle::train
