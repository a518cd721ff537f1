#pragma once
// Internal to checkpoints: where the row-sharded part of a multi-rank checkpoint lives and how a
// rank reads back its rows (checkpoint.hpp describes the layout).
#include <filesystem>
#include <map>
#include <string>

#include "aisle/dist/sharding.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::train {

inline constexpr const char* kShardsDir = ".shards";
inline constexpr const char* kShardingFile = "sharding.json";

// CHECKPOINTS/.shards/NAME/rank-RRRRR (rank < 0: CHECKPOINTS/.shards/NAME).
std::filesystem::path shard_dir(const std::filesystem::path& checkpoints_dir, const std::string& name, int rank);

// The checkpoint's tensors for one rank: entries of `cut_for` as that rank's rows (taken from the
// whole tensor or from the shards of any earlier world size), all others whole. Throws
// aisle::ArtifactError for a missing or inconsistent shard, aisle::Error when a tensor's rows do
// not match what the model expects.
std::map<std::string, Tensor> read_sharded_state(const io::ArtifactReader& reader, const std::filesystem::path& dir,
                                                 const std::map<std::string, dist::RowSharding>& cut_for);

}  // namespace aisle::train
