#include "aisle/io/id_map_file.hpp"

#include <charconv>

#include "aisle/io/safetensors.hpp"

namespace aisle::io {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "aisle-id-map";
}  // namespace

void write_id_map(const fs::path& path, const data::IdMap& map) {
  std::map<std::string, std::string> metadata{{"format", kFormat},
                                              {"kind", map.is_dense() ? "dense" : "strings"},
                                              {"count", std::to_string(map.size())}};
  std::map<std::string, Tensor> tensors;
  if (!map.is_dense()) tensors = {{"offsets", map.offsets()}, {"bytes", map.bytes()}};
  write_safetensors(path, tensors, metadata);
}

data::IdMap read_id_map(const fs::path& path) {
  const std::string where = path.string();
  const SafetensorsContents file = read_safetensors(path);
  auto meta = [&](const char* key) {
    const auto it = file.metadata.find(key);
    AISLE_ARTIFACT_CHECK(it != file.metadata.end(), where, ": not an Aisle id map (no '", key, "' in the metadata)");
    return it->second;
  };
  AISLE_ARTIFACT_CHECK(meta("format") == kFormat, where, ": not an Aisle id map (format is '", meta("format"),
                       "', expected '", kFormat, "')");
  const std::string kind = meta("kind"), count_text = meta("count");
  int64_t count = -1;
  const auto [end, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  AISLE_ARTIFACT_CHECK(ec == std::errc() && end == count_text.data() + count_text.size() && count >= 0, where,
                       ": id count '", count_text, "' is not a non-negative integer");
  if (kind == "dense") {
    AISLE_ARTIFACT_CHECK(file.tensors.empty(), where, ": a dense id map stores no tensors, this one has ",
                         file.tensors.size());
    return data::IdMap::dense(count);
  }
  AISLE_ARTIFACT_CHECK(kind == "strings", where, ": unknown id map kind '", kind, "' (expected strings or dense)");
  AISLE_ARTIFACT_CHECK(file.tensors.size() == 2 && file.tensors.count("offsets") && file.tensors.count("bytes"), where,
                       ": a strings id map holds exactly the tensors 'offsets' and 'bytes'");
  const Tensor& offsets = file.tensors.at("offsets");
  AISLE_ARTIFACT_CHECK(offsets.dim() == 1 && offsets.numel() == count + 1, where, ": ", count, " ids need offsets [",
                       count + 1, "], got ", offsets.describe());
  try {
    return data::IdMap::from_arrays(offsets, file.tensors.at("bytes"));
  } catch (const Error& e) {
    AISLE_ARTIFACT_FAIL(where, ": ", e.what());
  }
}

}  // namespace aisle::io
