#pragma once
#include <filesystem>

#include "aisle/data/id_map.hpp"

// An IdMap as a file of its own: a safetensors file with the tensors "offsets" (I64 [n+1]) and
// "bytes" (U8, the concatenated UTF-8 external ids) and the metadata {"format": "aisle-id-map",
// "kind": "strings", "count": "<n>"}. A dense map (external id = decimal dense id) stores no
// tensors, only {"kind": "dense", "count": "<n>"}. Any safetensors reader can decode it:
// external id i is bytes[offsets[i]:offsets[i+1]].
namespace aisle::io {

// Atomic (temporary file + fsync + rename).
void write_id_map(const std::filesystem::path& path, const data::IdMap& map);
// Zero-copy over the mapped file; throws aisle::ArtifactError naming the file for anything
// malformed (wrong format tag, count mismatch, offsets that do not index the bytes).
data::IdMap read_id_map(const std::filesystem::path& path);

}  // namespace aisle::io
