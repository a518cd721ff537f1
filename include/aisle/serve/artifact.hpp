#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/io/manifest.hpp"
#include "aisle/train/model.hpp"

// A trained model loaded from an exported artifact (train/export.hpp), for applications:
//
//   auto artifact = aisle::Artifact::load("artifacts/quickstart");
//   for (const auto& r : artifact.recommend("user_42", 10)) std::cout << r.item << " " << r.score << "\n";
//
// load() verifies every file's size and sha256 before reading anything (io::ArtifactReader) and
// refuses a corrupted, truncated or incomplete artifact with aisle::ArtifactError.
namespace aisle {

struct Recommendation {
  std::string item;    // external item id
  int64_t item_index;  // dense id
  float score;
};

class Artifact {
 public:
  static Artifact load(const std::filesystem::path& dir, Device device = Device::cpu());

  // The top k items for a user by external id, best first (ties: lower dense id first). With
  // exclude_seen the user's training items are left out. Throws aisle::Error naming the user
  // when the artifact does not know them.
  std::vector<Recommendation> recommend(const std::string& user, int64_t k, bool exclude_seen = true) const;
  std::vector<Recommendation> recommend(int64_t user_index, int64_t k, bool exclude_seen = true) const;

  const io::Manifest& manifest() const;
  const train::Model& model() const;
  int64_t num_users() const;
  int64_t num_items() const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

}  // namespace aisle
