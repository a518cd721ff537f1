#include "aisle/data/id_map.hpp"

#include <charconv>

namespace aisle::data {

IdMap IdMap::dense(int64_t n) {
  AISLE_CHECK(n >= 0, "IdMap::dense: negative size ", n);
  IdMap m;
  m.dense_ = true;
  m.dense_size_ = n;
  return m;
}

IdMap IdMap::from_arrays(Tensor offsets, Tensor bytes) {
  AISLE_DATA_CHECK(offsets.dtype() == DType::i64 && offsets.dim() == 1 && offsets.numel() >= 1 &&
                  bytes.dtype() == DType::u8 && bytes.dim() == 1,
              "IdMap: expected i64 offsets [n+1] and u8 bytes, got ", offsets.describe(), " and ",
              bytes.describe());
  const int64_t* off = offsets.data<int64_t>();
  const int64_t n = offsets.numel() - 1;
  AISLE_DATA_CHECK(off[0] == 0 && off[n] == bytes.numel(), "IdMap: offsets run from ", off[0], " to ", off[n],
              " but there are ", bytes.numel(), " bytes");
  for (int64_t i = 0; i < n; ++i)
    AISLE_DATA_CHECK(off[i] <= off[i + 1], "IdMap: offsets decrease at entry ", i);
  IdMap m;
  m.offsets_ = std::move(offsets);
  m.bytes_ = std::move(bytes);
  return m;
}

std::string IdMap::external(int64_t id) const {
  AISLE_CHECK(id >= 0 && id < size(), "IdMap: id ", id, " is outside [0, ", size(), ")");
  if (dense_) return std::to_string(id);
  const int64_t* off = offsets_.data<int64_t>();
  const char* b = reinterpret_cast<const char*>(bytes_.data<uint8_t>());
  return std::string(b + off[id], static_cast<size_t>(off[id + 1] - off[id]));
}

std::optional<int64_t> IdMap::find(std::string_view external) const {
  if (dense_) {
    int64_t v = -1;
    const auto [end, ec] = std::from_chars(external.data(), external.data() + external.size(), v);
    if (ec != std::errc() || end != external.data() + external.size() || v < 0 || v >= dense_size_)
      return std::nullopt;
    return v;
  }
  if (!reverse_) {
    auto index = std::make_shared<std::unordered_map<std::string_view, int64_t>>();
    const int64_t* off = offsets_.data<int64_t>();
    const char* b = reinterpret_cast<const char*>(bytes_.data<uint8_t>());
    index->reserve(static_cast<size_t>(size()));
    for (int64_t i = 0; i < size(); ++i)
      index->emplace(std::string_view(b + off[i], static_cast<size_t>(off[i + 1] - off[i])), i);
    reverse_ = std::move(index);
  }
  const auto it = reverse_->find(external);
  return it == reverse_->end() ? std::nullopt : std::optional<int64_t>(it->second);
}

int64_t IdInterner::intern(std::string_view external) {
  if (const auto it = index_.find(external); it != index_.end()) return it->second;
  const int64_t id = size();
  index_.emplace(std::string(external), id);
  bytes_.append(external);
  offsets_.push_back(static_cast<int64_t>(bytes_.size()));
  return id;
}

std::optional<int64_t> IdInterner::find(std::string_view external) const {
  const auto it = index_.find(external);
  return it == index_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

std::string_view IdInterner::external(int64_t id) const {
  AISLE_CHECK(id >= 0 && id < size(), "IdInterner: id ", id, " is outside [0, ", size(), ")");
  return std::string_view(bytes_).substr(static_cast<size_t>(offsets_[static_cast<size_t>(id)]),
                                         static_cast<size_t>(offsets_[static_cast<size_t>(id) + 1] - offsets_[static_cast<size_t>(id)]));
}

IdMap IdInterner::to_map() const {
  const Tensor bytes = Tensor::from_host(bytes_.data(), {static_cast<int64_t>(bytes_.size())}, DType::u8);
  return IdMap::from_arrays(Tensor::from_vector(offsets_), bytes);
}

}  // namespace aisle::data
