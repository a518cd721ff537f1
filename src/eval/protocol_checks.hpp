#pragma once
// Internal: argument checks shared by the evaluation protocols; errors name the protocol.
#include <cstdint>
#include <vector>

#include "aisle/data/user_index.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::eval::detail {

// Sorted, distinct cut-offs; throws unless non-empty and all >= 1.
std::vector<int64_t> checked_ks(const char* protocol, const std::vector<int64_t>& ks);
void check_same_space(const char* protocol, const data::UserItemIndex& train, const data::UserItemIndex& test);
void check_batch_size(const char* protocol, int64_t batch_size);
// A scorer's output: defined, f32/f64, the expected shape, on the evaluation device.
void check_scores(const char* protocol, const Tensor& scores, const Shape& expected, Device device);
// The users with at least one item in `index`, ascending.
std::vector<int64_t> users_with_items(const data::UserItemIndex& index);
// |items of user in a ∪ items of user in b| (both sorted).
int64_t union_size(const data::UserItemIndex& a, const data::UserItemIndex& b, int64_t user);

}  // namespace aisle::eval::detail
