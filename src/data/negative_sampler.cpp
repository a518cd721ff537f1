// NegativeSampler: tables, checks, dispatch, and the CPU sampler (the reference). CUDA twin:
// cuda/negative_sample.cu; both draw with src/data/negative_draw.hpp.
#include "aisle/data/negative_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "cuda/negative_sample.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/data/negative_draw.hpp"

namespace aisle::data {

namespace {

// On a CUDA sampler ids may sit on the CPU or on its device.
void check_ids(const char* op, const char* name, const Tensor& t, Device sampler) {
  const bool placed = !t.defined() || !t.is_cuda() || (sampler.is_cuda() && t.device() == sampler);
  AISLE_CHECK(t.defined() && t.dim() == 1 && t.dtype() == DType::i64 && placed, op, ": ", name,
              sampler.is_cuda() ? " must be a 1-D i64 tensor on the CPU or the sampler's device, got "
                                : " must be a 1-D i64 CPU tensor, got ",
              t.defined() ? t.describe() : std::string("an undefined tensor"));
}

// Vose's alias method: O(1) draws from arbitrary weights. Serial, so the table is deterministic.
void build_alias(const std::vector<double>& w, double total, std::vector<double>& prob, std::vector<int64_t>& alias) {
  const int64_t n = static_cast<int64_t>(w.size());
  prob.resize(w.size());
  alias.resize(w.size());
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < n; ++i) {
    prob[static_cast<size_t>(i)] = w[static_cast<size_t>(i)] * static_cast<double>(n) / total;
    alias[static_cast<size_t>(i)] = i;
    (prob[static_cast<size_t>(i)] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back(), l = large.back();
    small.pop_back();
    alias[static_cast<size_t>(s)] = l;
    double& pl = prob[static_cast<size_t>(l)];
    pl -= 1.0 - prob[static_cast<size_t>(s)];
    if (pl < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding. (A zero-weight leftover is still never returned: draws
  // reject zero-weight items.)
  for (int64_t i : small) prob[static_cast<size_t>(i)] = 1.0;
  for (int64_t i : large) prob[static_cast<size_t>(i)] = 1.0;
}

}  // namespace

Tensor item_counts(const Interactions& x) {
  x.validate("item_counts");
  Tensor out = Tensor::zeros({x.num_items}, DType::i64);
  int64_t* c = out.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  for (int64_t r = 0; r < x.size(); ++r) ++c[it[r]];
  return out;
}

NegativeSampler::NegativeSampler(std::shared_ptr<const UserItemIndex> positives) : positives_(std::move(positives)) {
  AISLE_CHECK(positives_ != nullptr, "NegativeSampler: the positives index is null");
}

NegativeSampler NegativeSampler::uniform(std::shared_ptr<const UserItemIndex> positives) {
  return NegativeSampler(std::move(positives));
}

NegativeSampler NegativeSampler::popularity(std::shared_ptr<const UserItemIndex> positives, const Tensor& counts,
                                            double alpha, int max_attempts) {
  NegativeSampler s(std::move(positives));
  const char* op = "NegativeSampler::popularity";
  const int64_t n_items = s.num_items();
  AISLE_CHECK(counts.defined() && counts.dim() == 1 && counts.numel() == n_items && !counts.is_cuda(), op,
              ": item_counts must be a 1-D CPU tensor of num_items = ", n_items, " entries, got ",
              counts.defined() ? counts.describe() : std::string("an undefined tensor"));
  AISLE_CHECK(std::isfinite(alpha) && alpha >= 0, op, ": alpha must be finite and non-negative, got ", alpha);
  AISLE_CHECK(max_attempts >= 0 && max_attempts <= detail::kNegativeMaxAttempts, op,
              ": max_attempts must be in [0, ", detail::kNegativeMaxAttempts, "], got ", max_attempts);
  s.max_attempts_ = max_attempts;
  const std::vector<double> c = counts.to_doubles();
  s.weights_.resize(c.size());
  s.prefix_.assign(c.size() + 1, 0.0);
  int64_t drawable = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    AISLE_CHECK(std::isfinite(c[i]) && c[i] >= 0, op, ": item_counts[", i, "] = ", c[i],
                " must be finite and non-negative");
    s.weights_[i] = std::pow(c[i], alpha);
    AISLE_CHECK(std::isfinite(s.weights_[i]), op, ": item_counts[", i, "]^alpha overflows");
    s.prefix_[i + 1] = s.prefix_[i] + s.weights_[i];
    drawable += s.weights_[i] > 0;
  }
  const double total = s.prefix_.back();
  AISLE_CHECK(total > 0, op, ": every item has weight 0 (counts all zero with alpha > 0)");
  build_alias(s.weights_, total, s.alias_prob_, s.alias_);

  // Each user's share of the mass outside its positives, and whether anything is left at all
  // (counted exactly, so rounding never hides an empty complement).
  const UserItemIndex& index = *s.positives_;
  s.free_share_.assign(static_cast<size_t>(index.num_users()), 0.0);
  cpu::parallel_for(index.num_users(), 1024, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      double taken = 0;
      int64_t taken_drawable = 0;
      for (const int64_t* p = index.begin(u); p != index.end(u); ++p) {
        taken += s.weights_[static_cast<size_t>(*p)];
        taken_drawable += s.weights_[static_cast<size_t>(*p)] > 0;
      }
      const double share = std::max((total - taken) / total, 1e-300);
      s.free_share_[static_cast<size_t>(u)] = taken_drawable < drawable ? share : 0.0;
    }
  });
  return s;
}

void NegativeSampler::check_users(const Tensor& users, const char* op) const {
  check_ids(op, "users", users, Device::cpu());
  const int64_t* u = users.data<int64_t>();
  for (int64_t r = 0; r < users.numel(); ++r) {
    AISLE_CHECK(u[r] >= 0 && u[r] < num_users(), op, ": user id ", u[r], " at position ", r,
                " is outside [0, ", num_users(), ")");
    if (is_popularity())
      AISLE_DATA_CHECK(free_share_[static_cast<size_t>(u[r])] > 0, op, ": user ", u[r],
                       " has no negative to draw: every item of non-zero popularity weight is a positive");
    else
      AISLE_DATA_CHECK(positives_->degree(u[r]) < num_items(), op, ": user ", u[r],
                       " has no negative to draw: all ", num_items(), " items are positives");
  }
}

int64_t NegativeSampler::draw(int64_t user, uint64_t seed, uint64_t stream, uint64_t slot) const {
  return detail::draw_negative(host_tables(), user, seed, stream, slot);
}

detail::NegativeTables NegativeSampler::host_tables() const {
  detail::NegativeTables t;
  t.offsets = positives_->offsets().data();
  t.items = positives_->items().data();
  t.num_items = num_items();
  if (is_popularity()) {
    t.weights = weights_.data();
    t.prefix = prefix_.data();
    t.alias_prob = alias_prob_.data();
    t.alias = alias_.data();
    t.free_share = free_share_.data();
  }
  t.max_attempts = max_attempts_;
  return t;
}

// Copies of the tables on one GPU, and the view of them the kernels take.
struct NegativeSampler::DeviceTables {
  Tensor offsets, items, weights, prefix, alias_prob, alias, free_share;
  detail::NegativeTables view;
};

NegativeSampler NegativeSampler::to(Device device) const {
  if (device == device_) return *this;
  NegativeSampler out = *this;
  out.device_ = device;
  out.device_tables_.reset();
  if (!device.is_cuda()) return out;
  AISLE_CUDA_ONLY("NegativeSampler::to", (void)0);
  auto d = std::make_shared<DeviceTables>();
  d->offsets = Tensor::from_vector(positives_->offsets(), device);
  // An empty vector's data() may be null; a one-element tensor keeps every pointer valid.
  d->items = Tensor::from_vector(positives_->items().empty() ? std::vector<int64_t>{0} : positives_->items(), device);
  d->view = host_tables();
  d->view.offsets = d->offsets.data<int64_t>();
  d->view.items = d->items.data<int64_t>();
  if (is_popularity()) {
    d->weights = Tensor::from_vector(weights_, device);
    d->prefix = Tensor::from_vector(prefix_, device);
    d->alias_prob = Tensor::from_vector(alias_prob_, device);
    d->alias = Tensor::from_vector(alias_, device);
    d->free_share = Tensor::from_vector(free_share_, device);
    d->view.weights = d->weights.data<double>();
    d->view.prefix = d->prefix.data<double>();
    d->view.alias_prob = d->alias_prob.data<double>();
    d->view.alias = d->alias.data<int64_t>();
    d->view.free_share = d->free_share.data<double>();
  }
  out.device_tables_ = std::move(d);
  return out;
}

void NegativeSampler::check_key_range(const Tensor& keys, int64_t k, const char* op) const {
  const uint64_t slots_per_key = static_cast<uint64_t>(std::max<int64_t>(k, 1));
  const Tensor host = keys.to(Device::cpu());
  const int64_t* key = host.data<int64_t>();
  for (int64_t r = 0; r < host.numel(); ++r)
    AISLE_CHECK(key[r] >= 0 && static_cast<uint64_t>(key[r]) < detail::kNegativeMaxSlot / slots_per_key, op, ": key ",
                key[r], " at position ", r, " is negative or too large (keys * k must stay below 2^56)");
}

Tensor NegativeSampler::sample(const Tensor& users, int64_t k, Generator& gen) const {
  return sample(users, k, gen.seed(), gen.take_stream());
}

Tensor NegativeSampler::sample(const Tensor& users, int64_t k, uint64_t seed, uint64_t stream,
                               const Tensor& keys) const {
  const char* op = "NegativeSampler::sample";
  AISLE_CHECK(k >= 0, op, ": k must be non-negative, got ", k);
  check_ids(op, "users", users, device_);
  const int64_t n = users.numel();
  if (keys.defined()) {
    check_ids(op, "keys", keys, device_);
    AISLE_CHECK(keys.numel() == n, op, ": keys ", keys.describe(), " must have one entry per user (", n, ")");
  }
  const uint64_t slots_per_key = static_cast<uint64_t>(std::max<int64_t>(k, 1));
  AISLE_CHECK(keys.defined() || n == 0 || static_cast<uint64_t>(n - 1) < detail::kNegativeMaxSlot / slots_per_key, op,
              ": ", n, " users * k must stay below 2^56 (pass keys)");
  if (device_.is_cuda()) {
    AISLE_CUDA_ONLY(op, {
      const Tensor dev_users = users.to(device_);
      const Tensor dev_keys = keys.defined() ? keys.to(device_) : Tensor();
      const detail::NegativeTables& t = device_tables_->view;
      if (!cuda::negative_inputs_valid(t, num_users(), dev_users, dev_keys, k)) {
        // The host checks find and name the first bad position, as on the CPU.
        check_users(users.to(Device::cpu()), op);
        if (keys.defined()) check_key_range(keys, k, op);
        AISLE_FAIL(op, ": the device rejected the users or keys but the host checks found nothing wrong");
      }
      return cuda::negative_sample(t, dev_users, dev_keys, k, seed, stream);
    });
  }
  check_users(users, op);
  if (keys.defined()) check_key_range(keys, k, op);
  Tensor out = Tensor::empty({n, k}, DType::i64);
  int64_t* po = out.data<int64_t>();
  const int64_t* pu = users.data<int64_t>();
  const int64_t* key = keys.defined() ? keys.data<int64_t>() : nullptr;
  const detail::NegativeTables t = host_tables();
  cpu::parallel_for(n, std::max<int64_t>(1, 2048 / static_cast<int64_t>(slots_per_key)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint64_t base = static_cast<uint64_t>(key ? key[r] : r) * static_cast<uint64_t>(k);
      for (int64_t j = 0; j < k; ++j)
        po[r * k + j] = detail::draw_negative(t, pu[r], seed, stream, base + static_cast<uint64_t>(j));
    }
  });
  return out;
}

}  // namespace aisle::data
