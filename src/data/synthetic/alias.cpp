#include "src/data/synthetic/alias.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::data::synth {

void GroupedAlias::add_group(const int32_t* members, const double* weights, const uint16_t* payloads, size_t n) {
  const auto begin = static_cast<int64_t>(slots_.size());
  double total = 0;
  for (size_t k = 0; k < n; ++k)
    if (weights[k] > 0) {
      const uint16_t payload = payloads ? payloads[k] : uint16_t{0};
      slots_.push_back({members[k], members[k], 0xFFFFFFFFu, payload, payload});
      total += weights[k];
    }
  const auto size = static_cast<uint32_t>(static_cast<int64_t>(slots_.size()) - begin);
  offsets_.push_back(offsets_.back() + size);
  if (size == 0) return;
  scaled_.clear();
  small_.clear();
  large_.clear();
  for (size_t k = 0; k < n; ++k)
    if (weights[k] > 0) {
      const auto slot = static_cast<uint32_t>(scaled_.size());
      scaled_.push_back(weights[k] * size / total);
      (scaled_.back() < 1.0 ? small_ : large_).push_back(slot);
    }
  // Vose: pair each under-full slot with an over-full one that tops it up. Slots left over are
  // full up to rounding and keep their own member (threshold 2^32 - 1).
  while (!small_.empty() && !large_.empty()) {
    const uint32_t s = small_.back(), l = large_.back();
    small_.pop_back();
    Slot& slot = slots_[static_cast<size_t>(begin + s)];
    slot.threshold = static_cast<uint32_t>(std::min(4294967295.0, std::floor(scaled_[s] * 4294967296.0)));
    slot.alias_member = slots_[static_cast<size_t>(begin + l)].member;
    slot.alias_payload = slots_[static_cast<size_t>(begin + l)].payload;
    scaled_[l] -= 1.0 - scaled_[s];
    if (scaled_[l] < 1.0) {
      large_.pop_back();
      small_.push_back(l);
    }
  }
}

GroupedAlias alias_by_group(const std::vector<int32_t>& group, const std::vector<double>& weight, int32_t groups) {
  AISLE_CHECK(group.size() == weight.size(), "alias_by_group: ", group.size(), " groups for ", weight.size(), " weights");
  // Members of each group in id order (a counting sort), then one group at a time.
  std::vector<int64_t> start(static_cast<size_t>(groups) + 1, 0);
  for (int32_t g : group) ++start[static_cast<size_t>(g) + 1];
  for (size_t g = 0; g < static_cast<size_t>(groups); ++g) start[g + 1] += start[g];
  std::vector<int32_t> members(group.size());
  std::vector<double> weights(group.size());
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (size_t i = 0; i < group.size(); ++i) {
      const auto at = static_cast<size_t>(next[static_cast<size_t>(group[i])]++);
      members[at] = static_cast<int32_t>(i);
      weights[at] = weight[i];
    }
  }
  GroupedAlias alias;
  for (size_t g = 0; g < static_cast<size_t>(groups); ++g) {
    const auto b = static_cast<size_t>(start[g]);
    alias.add_group(members.data() + b, weights.data() + b, nullptr, static_cast<size_t>(start[g + 1] - start[g]));
  }
  return alias;
}

}  // namespace aisle::data::synth
