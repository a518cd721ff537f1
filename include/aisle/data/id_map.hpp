#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aisle/tensor/tensor.hpp"

namespace aisle::data {

// Dense ids (0..n-1) <-> the external ids of the source file (any string). Stored on disk as
// byte offsets + concatenated bytes, so an opened map is read in place; the reverse index
// (external -> dense) is built on first lookup. A "dense" map has no strings: the external id of
// dense id i is its decimal form (generated datasets).
class IdMap {
 public:
  IdMap() = default;
  static IdMap dense(int64_t n);
  // Over stored arrays: offsets i64 [n+1], bytes u8 [offsets[n]].
  static IdMap from_arrays(Tensor offsets, Tensor bytes);

  int64_t size() const { return dense_ ? dense_size_ : static_cast<int64_t>(offsets_.numel()) - 1; }
  bool is_dense() const { return dense_; }
  std::string external(int64_t id) const;  // throws on an out-of-range id
  std::optional<int64_t> find(std::string_view external) const;

  const Tensor& offsets() const { return offsets_; }
  const Tensor& bytes() const { return bytes_; }

 private:
  bool dense_ = false;
  int64_t dense_size_ = 0;
  Tensor offsets_, bytes_;
  mutable std::shared_ptr<std::unordered_map<std::string_view, int64_t>> reverse_;
};

// Assigns dense ids to external ids in order of first appearance (importers).
class IdInterner {
 public:
  int64_t intern(std::string_view external);
  std::optional<int64_t> find(std::string_view external) const;
  int64_t size() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  std::string_view external(int64_t id) const;
  // The stored form (offsets i64 [n+1], bytes u8).
  IdMap to_map() const;

 private:
  struct Hash {
    using is_transparent = void;  // look up string_views without building strings
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<int64_t> offsets_{0};
  std::string bytes_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> index_;
};

}  // namespace aisle::data
