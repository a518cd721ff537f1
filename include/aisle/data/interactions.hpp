#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

namespace aisle::data {

// A set of interaction rows as CPU column tensors. Opened datasets hand out zero-copy views of
// their memory-mapped columns; splits and filters return new Interactions over the same id space.
struct Interactions {
  Tensor users;       // i64 [n], dense ids in [0, num_users)
  Tensor items;       // i64 [n], dense ids in [0, num_items)
  Tensor values;      // f32 [n]: rating, quantity or weight (1 for plain implicit feedback)
  Tensor timestamps;  // i64 [n]: seconds since the Unix epoch (or a sequence position); 0 if unknown
  Tensor events;      // u8 [n]: data::Event
  Tensor parts;       // u8 [n]: data::Part, the split the source file assigned (Part::none if none)
  int64_t num_users = 0;
  int64_t num_items = 0;

  int64_t size() const { return users.defined() ? users.numel() : 0; }
  // The rows at `rows` (i64 positions, any order, repeats allowed), same id space.
  Interactions select(const Tensor& rows) const;
  // Empty columns of the right dtypes, for building row by row.
  static Interactions empty(int64_t num_users, int64_t num_items);
  // From host vectors (tests, importers of small files); values/timestamps/events/parts may be
  // empty (then 1, 0, Event::unknown and Part::none).
  static Interactions from_vectors(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                                   int64_t num_users, int64_t num_items,
                                   const std::vector<float>& values = {},
                                   const std::vector<int64_t>& timestamps = {},
                                   const std::vector<uint8_t>& events = {},
                                   const std::vector<uint8_t>& parts = {});
  // Throws aisle::Error naming the column and row if columns disagree in length or dtype, or an
  // id is outside [0, num_users) / [0, num_items).
  void validate(const char* where) const;
};

}  // namespace aisle::data
