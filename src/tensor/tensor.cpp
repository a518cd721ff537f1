#include "aisle/tensor/tensor.hpp"

#include <atomic>
#include <cstring>

#include "aisle/device/cuda.hpp"
#include "src/device/cuda_context.hpp"
#include "src/tensor/fill_cast.hpp"
#include "src/tensor/value_convert.hpp"
#include "src/core/dispatch.hpp"

namespace aisle {

namespace {
std::atomic<bool> g_poison{false};

void check_device_usable(Device device) {
  if (!device.is_cuda()) return;
  AISLE_CHECK(cuda::built_with_cuda(), "cannot place a tensor on ", device.str(),
              ": this build of aisle has no CUDA backend");
  const int n = cuda::device_count();
  AISLE_CHECK(n > 0, "cannot place a tensor on ", device.str(), ": no CUDA device is available (",
              cuda::unavailable_reason(), ")");
  AISLE_CHECK(device.index < n, "cannot place a tensor on ", device.str(), ": only ", n,
              " CUDA device(s) present");
}

// Byte copy between any two devices; waits for completion when the destination is the host.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t n) {
  if (n == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, n);
    return;
  }
#if AISLE_WITH_CUDA
  if (src_device.is_cuda() && dst_device.is_cuda() && src_device.index != dst_device.index) {
    // The copy runs on the source device's stream; the destination block may still have work
    // queued on its own device's stream (e.g. the fill that made it), so let that finish first.
    cuda::use_device(dst_device.index);
    AISLE_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(dst_device.index)));
  }
  const int dev = src_device.is_cuda() ? src_device.index : dst_device.index;
  cuda::use_device(dev);
  AISLE_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, cuda::stream(dev)));
  if (dst_device.is_cpu() || src_device.is_cpu() || dst_device.index != src_device.index)
    AISLE_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(dev)));
#else
  detail::throw_no_cuda("copy");
#endif
}
}  // namespace

void set_poison_uninitialized(bool on) { g_poison.store(on); }
bool poison_uninitialized() { return g_poison.load(); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    AISLE_CHECK(d >= 0, "Tensor::empty: negative dimension in shape ", shape_str(shape));
  check_device_usable(device);
  const size_t nbytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  Tensor t(std::make_shared<Storage>(nbytes, device), 0, shape, dtype);
  if (g_poison.load(std::memory_order_relaxed)) detail::fill_poison(t);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  detail::fill(t, value);
  return t;
}

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  Tensor t = empty({n}, dtype, device);
  detail::arange(t);
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype,
                             std::shared_ptr<void> keep_alive, Device device) {
  for (int64_t d : shape)
    AISLE_CHECK(d >= 0, "Tensor::from_external: negative dimension in shape ", shape_str(shape));
  const size_t nbytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  AISLE_CHECK(data != nullptr || nbytes == 0, "Tensor::from_external: null data for ", nbytes, " bytes");
  return Tensor(std::make_shared<Storage>(data, nbytes, device, std::move(keep_alive)), 0, shape, dtype);
}

Tensor Tensor::from_host(const void* data, const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  copy_bytes(t.raw_data(), device, data, Device::cpu(), t.nbytes());
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  return shape_[static_cast<size_t>(normalize_axis(axis, dim(), "Tensor::size"))];
}

void* Tensor::raw_data() const {
  if (!storage_ || !storage_->data()) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

Tensor Tensor::reshape(const Shape& shape) const {
  AISLE_CHECK(defined(), "reshape: undefined tensor");
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      AISLE_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      AISLE_CHECK(out[i] >= 0, "reshape: negative dimension in ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    AISLE_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", describe(), " to ",
                shape_str(shape));
    out[static_cast<size_t>(infer)] = numel() / known;
  }
  AISLE_CHECK(shape_numel(out) == numel(), "reshape: cannot reshape ", describe(), " to ",
              shape_str(shape), " (", numel(), " elements vs ", shape_numel(out), ")");
  return Tensor(storage_, offset_, out, dtype_);
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  AISLE_CHECK(defined() && dim() >= 1, "rows: need a tensor with at least one axis, got ",
              defined() ? describe() : std::string("undefined"));
  AISLE_CHECK(0 <= begin && begin <= end && end <= shape_[0], "rows: range [", begin, ", ", end,
              ") is outside [0, ", shape_[0], ") for ", describe());
  Shape out = shape_;
  out[0] = end - begin;
  const int64_t row = shape_[0] == 0 ? 0 : numel() / shape_[0];
  return Tensor(storage_, offset_ + begin * row, out, dtype_);
}

Tensor Tensor::to(Device device) const {
  AISLE_CHECK(defined(), "to: undefined tensor");
  if (device == this->device()) return *this;
  Tensor out = empty(shape_, dtype_, device);
  copy_bytes(out.raw_data(), device, raw_data(), this->device(), nbytes());
  return out;
}

Tensor Tensor::to(DType dtype) const {
  AISLE_CHECK(defined(), "to: undefined tensor");
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype, device());
  detail::cast(*this, out);
  return out;
}

Tensor Tensor::clone() const {
  AISLE_CHECK(defined(), "clone: undefined tensor");
  Tensor out = empty(shape_, dtype_, device());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), nbytes());
  return out;
}

Tensor& Tensor::copy_(const Tensor& src) {
  AISLE_CHECK(defined() && src.defined(), "copy_: undefined tensor");
  AISLE_CHECK(src.shape_ == shape_ && src.dtype_ == dtype_, "copy_: source ", src.describe(),
              " does not match destination ", describe());
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
  return *this;
}

Tensor& Tensor::fill_(double value) {
  AISLE_CHECK(defined(), "fill_: undefined tensor");
  detail::fill(*this, value);
  return *this;
}

void Tensor::copy_to_host(void* dst) const {
  AISLE_CHECK(defined(), "to_vector: undefined tensor");
  copy_bytes(dst, Device::cpu(), raw_data(), device(), nbytes());
}

std::vector<double> Tensor::to_doubles() const {
  const Tensor host = to(Device::cpu());
  std::vector<double> out(static_cast<size_t>(numel()));
  detail::dispatch_any(dtype_, [&](auto tag) {
    using T = decltype(tag);
    const T* p = host.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = detail::to_double(p[i]);
  });
  return out;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return shape_str(shape_) + " " + dtype_name(dtype_) + " " + device().str();
}

}  // namespace aisle
