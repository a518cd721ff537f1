#include "src/eval/protocol_checks.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"

namespace aisle::eval::detail {

std::vector<int64_t> checked_ks(const char* protocol, const std::vector<int64_t>& ks) {
  AISLE_CHECK(!ks.empty(), protocol, ": ks (the cut-offs K) is empty");
  for (const int64_t k : ks) AISLE_CHECK(k >= 1, protocol, ": every cut-off K must be at least 1, got ", k);
  std::vector<int64_t> out = ks;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void check_same_space(const char* protocol, const data::UserItemIndex& train, const data::UserItemIndex& test) {
  AISLE_CHECK(train.num_users() == test.num_users() && train.num_items() == test.num_items(), protocol,
              ": train (", train.num_users(), " users, ", train.num_items(), " items) and test (", test.num_users(),
              " users, ", test.num_items(), " items) must share one id space");
  AISLE_CHECK(train.num_items() >= 1, protocol, ": the catalogue is empty (num_items = 0)");
}

void check_batch_size(const char* protocol, int64_t batch_size) {
  AISLE_CHECK(batch_size >= 1, protocol, ": batch_size must be at least 1, got ", batch_size);
}

void check_scores(const char* protocol, const Tensor& scores, const Shape& expected, Device device) {
  AISLE_CHECK(scores.defined(), protocol, ": the scorer returned an undefined tensor");
  AISLE_CHECK(scores.dtype() == DType::f32 || scores.dtype() == DType::f64, protocol,
              ": the scorer must return f32 or f64 scores, got ", scores.describe());
  AISLE_CHECK(scores.shape() == expected, protocol, ": the scorer returned ", scores.describe(), ", expected shape ",
              shape_str(expected));
  AISLE_CHECK(scores.device() == device, protocol, ": the scorer returned ", scores.describe(),
              " but the evaluation runs on ", device.str());
}

std::vector<int64_t> users_with_items(const data::UserItemIndex& index) {
  std::vector<int64_t> users;
  for (int64_t u = 0; u < index.num_users(); ++u)
    if (index.degree(u) > 0) users.push_back(u);
  return users;
}

int64_t union_size(const data::UserItemIndex& a, const data::UserItemIndex& b, int64_t user) {
  const int64_t *pa = a.begin(user), *ea = a.end(user), *pb = b.begin(user), *eb = b.end(user);
  int64_t common = 0;
  while (pa != ea && pb != eb) {
    if (*pa < *pb) ++pa;
    else if (*pb < *pa) ++pb;
    else {
      ++common;
      ++pa;
      ++pb;
    }
  }
  return a.degree(user) + b.degree(user) - common;
}

}  // namespace aisle::eval::detail
