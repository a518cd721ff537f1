#include "aisle/data/interactions.hpp"

#include "aisle/data/event.hpp"
#include "aisle/ops/scatter.hpp"

namespace aisle::data {

Interactions Interactions::select(const Tensor& rows) const {
  Interactions out;
  out.users = ops::gather_rows(users, rows);
  out.items = ops::gather_rows(items, rows);
  out.values = ops::gather_rows(values, rows);
  out.timestamps = ops::gather_rows(timestamps, rows);
  out.events = ops::gather_rows(events, rows);
  out.parts = ops::gather_rows(parts, rows);
  out.num_users = num_users;
  out.num_items = num_items;
  return out;
}

Interactions Interactions::empty(int64_t num_users, int64_t num_items) {
  return from_vectors({}, {}, num_users, num_items);
}

Interactions Interactions::from_vectors(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                                        int64_t num_users, int64_t num_items,
                                        const std::vector<float>& values,
                                        const std::vector<int64_t>& timestamps,
                                        const std::vector<uint8_t>& events,
                                        const std::vector<uint8_t>& parts) {
  const size_t n = users.size();
  AISLE_CHECK(items.size() == n && (values.empty() || values.size() == n) &&
                  (timestamps.empty() || timestamps.size() == n) && (events.empty() || events.size() == n) &&
                  (parts.empty() || parts.size() == n),
              "Interactions::from_vectors: columns have different lengths (users ", n, ", items ",
              items.size(), ", values ", values.size(), ", timestamps ", timestamps.size(), ", events ",
              events.size(), ", parts ", parts.size(), ")");
  Interactions out;
  out.users = Tensor::from_vector(users);
  out.items = Tensor::from_vector(items);
  out.values = values.empty() ? Tensor::ones({static_cast<int64_t>(n)}) : Tensor::from_vector(values);
  out.timestamps = timestamps.empty() ? Tensor::zeros({static_cast<int64_t>(n)}, DType::i64) : Tensor::from_vector(timestamps);
  out.events = events.empty() ? Tensor::zeros({static_cast<int64_t>(n)}, DType::u8) : Tensor::from_vector(events);
  out.parts = parts.empty() ? Tensor::zeros({static_cast<int64_t>(n)}, DType::u8) : Tensor::from_vector(parts);
  out.num_users = num_users;
  out.num_items = num_items;
  out.validate("Interactions::from_vectors");
  return out;
}

void Interactions::validate(const char* where) const {
  const int64_t n = size();
  auto column = [&](const Tensor& t, const char* name, DType dtype) {
    AISLE_CHECK(t.defined() && t.dim() == 1 && t.numel() == n && t.dtype() == dtype && !t.is_cuda(),
                where, ": column '", name, "' must be a 1-D ", dtype_name(dtype), " CPU tensor of ", n,
                " rows, got ", t.describe());
  };
  column(users, "users", DType::i64);
  column(items, "items", DType::i64);
  column(values, "values", DType::f32);
  column(timestamps, "timestamps", DType::i64);
  column(events, "events", DType::u8);
  column(parts, "parts", DType::u8);
  AISLE_CHECK(num_users >= 0 && num_items >= 0, where, ": negative entity counts");
  const int64_t* u = users.data<int64_t>();
  const int64_t* i = items.data<int64_t>();
  const uint8_t* e = events.data<uint8_t>();
  const uint8_t* pt = parts.data<uint8_t>();
  for (int64_t r = 0; r < n; ++r) {
    AISLE_CHECK(u[r] >= 0 && u[r] < num_users, where, ": row ", r, ": user id ", u[r],
                " is outside [0, ", num_users, ")");
    AISLE_CHECK(i[r] >= 0 && i[r] < num_items, where, ": row ", r, ": item id ", i[r],
                " is outside [0, ", num_items, ")");
    AISLE_CHECK(e[r] <= static_cast<uint8_t>(Event::rating), where, ": row ", r, ": unknown event code ",
                int{e[r]});
    AISLE_CHECK(pt[r] <= static_cast<uint8_t>(Part::test), where, ": row ", r, ": unknown part code ", int{pt[r]});
  }
}

}  // namespace aisle::data
