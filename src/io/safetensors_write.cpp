#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>
#include <vector>

#include "aisle/io/safetensors.hpp"
#include "src/io/atomic_file.hpp"
#include "src/io/safetensors_format.hpp"

namespace aisle::io {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian, written as is");

namespace {

struct Entry {
  const std::string* name;
  Tensor host;
};

}  // namespace

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  std::vector<Entry> entries;
  entries.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    AISLE_CHECK(!name.empty(), where, ": a tensor has an empty name");
    AISLE_CHECK(name != detail::kMetadataKey, where, ": '", name, "' is reserved for the metadata and cannot name a tensor");
    AISLE_CHECK(t.defined(), where, ": tensor '", name, "' is undefined");
    entries.push_back({&name, t.to(Device::cpu())});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const int ra = detail::reference_dtype_rank(a.host.dtype()), rb = detail::reference_dtype_rank(b.host.dtype());
    return ra != rb ? ra > rb : *a.name < *b.name;
  });

  // ordered_json keeps insertion order: "__metadata__" first, tensors in data order, and each
  // entry's keys as dtype, shape, data_offsets, as the reference writes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) m[key] = value;
    header[std::string(detail::kMetadataKey)] = std::move(m);
  }
  uint64_t offset = 0;
  for (const Entry& e : entries) {
    const uint64_t bytes = e.host.nbytes();
    header[*e.name] = {{"dtype", detail::safetensors_dtype(e.host.dtype())},
                       {"shape", e.host.shape()},
                       {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    AISLE_FAIL(where, ": tensor names and metadata must be valid UTF-8 (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // so the data section starts 8-byte aligned

  detail::AtomicFile file(path);
  const uint64_t n = text.size();
  file.write(&n, sizeof n);
  file.write(text.data(), text.size());
  for (const Entry& e : entries) file.write(e.host.raw_data(), e.host.nbytes());
  file.commit();
}

}  // namespace aisle::io
