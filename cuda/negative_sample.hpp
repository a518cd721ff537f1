#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"
#include "src/data/negative_draw.hpp"

// Launchers for NegativeSampler's CUDA path (semantics in aisle/data/negative_sampler.hpp; CPU
// twin and reference: src/data/negative_sampler.cpp). tables, users and keys (i64 [n], or
// undefined: row r draws slots r * k + j) are on one CUDA device.
namespace aisle::cuda {

// Whether every user is in [0, num_users) and can draw, and every key r is in
// [0, 2^56 / max(k, 1)): the sampler's checks, answered on the device. On false the caller
// repeats them on the host to name the first bad position.
bool negative_inputs_valid(const detail::NegativeTables& tables, int64_t num_users, const Tensor& users,
                           const Tensor& keys, int64_t k);

// i64 [n, k] on the device: slot keys[r] * k + j of users[r], as detail::draw_negative draws it.
Tensor negative_sample(const detail::NegativeTables& tables, const Tensor& users, const Tensor& keys, int64_t k,
                       uint64_t seed, uint64_t stream);

}  // namespace aisle::cuda
