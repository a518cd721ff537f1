#include "aisle/dist/gradient_buckets.hpp"

#include "aisle/ops/elementwise.hpp"

namespace aisle::dist {
namespace {

void check_gradients(const std::vector<Tensor>& grads, size_t bucket_bytes) {
  AISLE_CHECK(bucket_bytes > 0, "all_reduce_gradients: bucket_bytes must be positive");
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& t = grads[i];
    AISLE_CHECK(t.defined(), "all_reduce_gradients: gradient ", i, " is undefined");
    AISLE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, "all_reduce_gradients: gradient ", i, " is ",
                t.describe(), ", expected f32 or f64");
    const Tensor& first = grads[0];
    AISLE_CHECK(t.dtype() == first.dtype(), "all_reduce_gradients: gradient ", i, " is ", t.describe(),
                " but gradient 0 is ", first.describe(), " (one dtype for all)");
    AISLE_CHECK(t.device() == first.device(), "all_reduce_gradients: gradient ", i, " is ", t.describe(),
                " but gradient 0 is ", first.describe(), " (one device for all)");
  }
}

void scale_in_place(Tensor& t, double scale) {
  if (scale != 1.0) t.copy_(ops::affine(t, scale));
}

}  // namespace

std::vector<GradientBucket> plan_gradient_buckets(const std::vector<Tensor>& grads, size_t bucket_bytes) {
  check_gradients(grads, bucket_bytes);
  std::vector<GradientBucket> buckets;
  GradientBucket open;
  auto close = [&] {
    if (open.count > 0) buckets.push_back(open);
    open = {};
  };
  for (size_t i = 0; i < grads.size(); ++i) {
    const size_t bytes = grads[i].nbytes();
    if (bytes == 0) continue;
    if (open.count > 0 && open.bytes + bytes > bucket_bytes) close();
    if (open.count == 0) open.first = i;
    // Empty tensors between members are skipped when packing, so a bucket's range may hold some.
    open.count = i + 1 - open.first;
    open.bytes += bytes;
    if (open.bytes >= bucket_bytes) close();  // full, or one tensor larger than a bucket
  }
  close();
  return buckets;
}

size_t all_reduce_gradients(Communicator& comm, const std::vector<Tensor>& grads, double scale, size_t bucket_bytes) {
  const std::vector<GradientBucket> buckets = plan_gradient_buckets(grads, bucket_bytes);
  for (const GradientBucket& bucket : buckets) {
    const Tensor& first = grads[bucket.first];
    if (bucket.count == 1) {
      Tensor t = first;  // a handle: the communicator and the scaling write into the caller's storage
      comm.all_reduce(t, ReduceOp::sum);
      scale_in_place(t, scale);
      continue;
    }
    const int64_t elements = static_cast<int64_t>(bucket.bytes / dtype_size(first.dtype()));
    Tensor flat = Tensor::empty({elements}, first.dtype(), first.device());
    int64_t at = 0;
    for (size_t i = bucket.first; i < bucket.first + bucket.count; ++i) {
      const int64_t n = grads[i].numel();
      if (n == 0) continue;
      flat.rows(at, at + n).copy_(grads[i].reshape({n}));
      at += n;
    }
    comm.all_reduce(flat, ReduceOp::sum);
    scale_in_place(flat, scale);
    at = 0;
    for (size_t i = bucket.first; i < bucket.first + bucket.count; ++i) {
      const int64_t n = grads[i].numel();
      if (n == 0) continue;
      Tensor view = grads[i].reshape({n});
      view.copy_(flat.rows(at, at + n));
      at += n;
    }
  }
  return buckets.size();
}

}  // namespace aisle::dist
