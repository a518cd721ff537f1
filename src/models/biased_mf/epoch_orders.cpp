#include "src/models/biased_mf/epoch_orders.hpp"

namespace aisle::models::biased_mf {

EpochOrders::EpochOrders(int64_t n, const data::BatchSamplerOptions& options)
    : current_(std::make_unique<data::BatchSampler>(n, options)), n_(n), options_(options) {}

EpochOrders::~EpochOrders() {
  if (drawing_.valid()) drawing_.wait();
}

const data::BatchSampler& EpochOrders::at(int64_t epoch) {
  // ahead_ is read here only while no draw is in progress.
  if (current_->epoch() != epoch) {
    if (drawing_.valid()) drawing_.get();  // rethrows what the draw threw
    if (ahead_ && ahead_->epoch() == epoch)
      std::swap(current_, ahead_);
    else
      current_->set_epoch(epoch);
  }
  if (!drawing_.valid() && !(ahead_ && ahead_->epoch() == epoch + 1)) {
    drawing_ = std::async(std::launch::async, [this, next = epoch + 1] {
      if (!ahead_) ahead_ = std::make_unique<data::BatchSampler>(n_, options_);
      ahead_->set_epoch(next);
    });
  }
  return *current_;
}

}  // namespace aisle::models::biased_mf
