#pragma once
// Internal: O(1) weighted sampling (Walker's alias method, Vose's construction) over many groups
// at once, e.g. the products of each category by popularity. One flat slot array for all groups
// and no allocation per group; a slot holds both of its candidates, so a draw reads one 16-byte
// slot (the tables are large and drawn at random: cache misses are the cost).
#include <cstdint>
#include <vector>

#include "src/data/synthetic/rng.hpp"

namespace aisle::data::synth {

class GroupedAlias {
 public:
  struct Pick {
    int32_t member;
    uint16_t payload;  // what the member was added with (e.g. the bound its weight was built from)
  };

  // Appends the next group (its id is groups() before the call). Members of weight 0 are left
  // out, so a group may be empty.
  void add_group(const int32_t* members, const double* weights, const uint16_t* payloads, size_t n);

  int32_t groups() const { return static_cast<int32_t>(offsets_.size()) - 1; }
  int64_t group_size(int32_t g) const { return offsets_[static_cast<size_t>(g) + 1] - offsets_[static_cast<size_t>(g)]; }
  // A member of group g (which must be non-empty), with probability proportional to its weight.
  Pick pick(int32_t g, Stream& rng) const {
    const int64_t begin = offsets_[static_cast<size_t>(g)];
    const uint32_t size = static_cast<uint32_t>(offsets_[static_cast<size_t>(g) + 1] - begin);
    const Slot& s = slots_[static_cast<size_t>(begin + rng.below(size))];
    return rng.u32() <= s.threshold ? Pick{s.member, s.payload} : Pick{s.alias_member, s.alias_payload};
  }
  int32_t sample(int32_t g, Stream& rng) const { return pick(g, rng).member; }

 private:
  struct Slot {
    int32_t member;
    int32_t alias_member;  // the member of the slot that tops this one up
    uint32_t threshold;    // keep this slot's member when u32 <= threshold
    uint16_t payload, alias_payload;
  };
  std::vector<int64_t> offsets_{0};  // group g owns slots [offsets_[g], offsets_[g+1])
  std::vector<Slot> slots_;
  std::vector<double> scaled_;  // build scratch
  std::vector<uint32_t> small_, large_;
};

// One group per distinct value of group[i] (0..groups-1) over members 0..n-1.
GroupedAlias alias_by_group(const std::vector<int32_t>& group, const std::vector<double>& weight, int32_t groups);

}  // namespace aisle::data::synth
