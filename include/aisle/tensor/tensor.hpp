#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"
#include "aisle/tensor/shape.hpp"
#include "aisle/tensor/storage.hpp"

namespace aisle {

// A dense, row-major, n-dimensional array on one device. A Tensor is a cheap handle: copies share
// storage. Every tensor is contiguous; the only views are reshape and row slices, which stay
// contiguous, so kernels never deal with strides. Anything else (transpose, permute) copies.
class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing

  // Uninitialised memory (poisoned with NaN / sentinels when set_poison_uninitialized(true)).
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  static Tensor arange(int64_t n, DType dtype = DType::i64, Device device = Device::cpu());
  // Copies `shape_numel(shape)` elements of `dtype` from host memory.
  static Tensor from_host(const void* data, const Shape& shape, DType dtype,
                          Device device = Device::cpu());
  // A tensor over memory owned elsewhere (no copy), e.g. a memory-mapped dataset column.
  // `keep_alive` owns the memory; it lives as long as any tensor or view over it.
  static Tensor from_external(void* data, const Shape& shape, DType dtype,
                              std::shared_ptr<void> keep_alive, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu()) {
    AISLE_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ",
                values.size(), " values do not fill shape ", shape_str(shape));
    return from_host(values.data(), shape, dtype_of<T>, device);
  }
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, Device device = Device::cpu()) {
    return from_vector(values, Shape{static_cast<int64_t>(values.size())}, device);
  }
  template <class T>
  static Tensor scalar(T value, Device device = Device::cpu()) {
    return from_host(&value, Shape{}, dtype_of<T>, device);
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  // Pointer to the first element, on the tensor's device. Checks that T matches the dtype.
  template <class T>
  T* data() const {
    AISLE_CHECK(dtype_of<T> == dtype_, "Tensor::data: tensor is ", dtype_name(dtype_),
                ", asked for ", dtype_name(dtype_of<T>));
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Views sharing storage.
  Tensor reshape(const Shape& shape) const;  // one axis may be -1
  Tensor rows(int64_t begin, int64_t end) const;  // [begin, end) along axis 0
  Tensor flatten() const { return reshape({numel()}); }

  // Copies.
  Tensor to(Device device) const;  // returns *this when already there
  Tensor to(DType dtype) const;    // returns *this when already that dtype
  Tensor clone() const;
  Tensor& copy_(const Tensor& src);  // same shape and dtype; any devices
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  template <class T>
  std::vector<T> to_vector() const {
    AISLE_CHECK(dtype_of<T> == dtype_, "Tensor::to_vector: tensor is ", dtype_name(dtype_),
                ", asked for ", dtype_name(dtype_of<T>));
    std::vector<T> out(static_cast<size_t>(numel()));
    copy_to_host(out.data());
    return out;
  }
  template <class T>
  T item() const {
    AISLE_CHECK(numel() == 1, "Tensor::item: tensor ", describe(), " has ", numel(), " elements");
    return to_vector<T>()[0];
  }
  // Any numeric dtype, converted to double (for tests, logs and metrics).
  std::vector<double> to_doubles() const;

  std::string describe() const;  // "[2, 3] f32 cuda:0"
  bool shares_storage(const Tensor& other) const { return storage_ && storage_ == other.storage_; }
  // True when this handle is the only one on its storage (no copy, view or other Tensor shares
  // it), so writing into it in place can change nothing anyone else sees.
  bool sole_owner() const { return storage_ && storage_.use_count() == 1; }
  int64_t storage_offset() const { return offset_; }

 private:
  Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, DType dtype)
      : storage_(std::move(storage)), offset_(offset), shape_(std::move(shape)), dtype_(dtype) {}
  void copy_to_host(void* dst) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
};

// Debug aid used by the test suite: fill every Tensor::empty with NaN (floats) or a sentinel
// (integers) so a kernel that forgets to write an element is caught rather than passing on zeros.
void set_poison_uninitialized(bool on);
bool poison_uninitialized();

}  // namespace aisle
