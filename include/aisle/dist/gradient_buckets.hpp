#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "aisle/dist/communicator.hpp"
#include "aisle/tensor/tensor.hpp"

// Dense gradients of a data-parallel model, summed over the ranks in buckets, as PyTorch DDP does:
// consecutive tensors are packed into one flat buffer of at most `bucket_bytes`, so many small
// gradients cost one collective instead of one each, and a big one goes alone, in place.
//
// There is no overlap with the backward pass: the autograd engine has no per-parameter hooks
// that would say when a gradient is final, so every bucket is reduced after backward() returns.
// Bucketing still pays by cutting the number of collectives (latency per call).
namespace aisle::dist {

constexpr size_t kDefaultBucketBytes = size_t{25} << 20;  // 25 MiB, DDP's default

// Tensors [first, first + count) of the list, reduced by one all_reduce.
struct GradientBucket {
  size_t first = 0;
  size_t count = 0;
  size_t bytes = 0;
  bool packed() const { return count > 1; }  // copied into a flat buffer; one tensor is reduced in place
};

// The buckets all_reduce_gradients uses: a function of the tensors' sizes alone, so every rank
// with the same shapes cuts the same buckets. Empty tensors join no bucket (nothing to reduce);
// a tensor of more than bucket_bytes is a bucket of its own.
std::vector<GradientBucket> plan_gradient_buckets(const std::vector<Tensor>& grads,
                                                  size_t bucket_bytes = kDefaultBucketBytes);

// A collective: every rank calls it with tensors of the same shapes, dtype and order. In place,
// each tensor becomes scale * (its sum over ranks) — scale 1 for gradients already normalised by
// the global batch, 1 / world for a mean of per-rank means. Tensors are f32 or f64 (all the same
// dtype), on one device, and must not alias one another. Deterministic: the buckets depend only
// on the shapes, and the communicator sums in rank order. Returns the number of all_reduce calls.
size_t all_reduce_gradients(Communicator& comm, const std::vector<Tensor>& grads, double scale = 1.0,
                            size_t bucket_bytes = kDefaultBucketBytes);

}  // namespace aisle::dist
