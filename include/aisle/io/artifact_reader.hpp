#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "aisle/data/id_map.hpp"
#include "aisle/io/manifest.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::io {

// An artifact directory opened for use, model-agnostic: the model layer (Artifact::load,
// recommend) reads the model type, hyperparameters and dimensions from manifest(), its tensors
// from tensor(), and maps external ids with id_map(). Copies share the opened state.
class ArtifactReader {
 public:
  // Parses DIR/manifest.json (format, version, fields), then checks every listed file's size and
  // SHA-256 before mapping anything: a missing, truncated, corrupted or replaced file throws
  // aisle::ArtifactError naming the file and what is wrong. Then memory-maps the weights and id
  // maps (zero copy). Files the manifest does not list are ignored, never read.
  static ArtifactReader open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const;
  const Manifest& manifest() const;
  const std::string& manifest_text() const;  // manifest.json as read, for printing

  // The weights file's tensors (CPU, over the mapped file); empty when there is no weights file.
  const std::map<std::string, Tensor>& tensors() const;
  const std::map<std::string, std::string>& weights_metadata() const;
  // Throws aisle::ArtifactError naming the artifact and the tensors it has.
  const Tensor& tensor(const std::string& name) const;

  bool has_id_map(const std::string& role) const;
  const data::IdMap& id_map(const std::string& role) const;  // throws when the role is absent
  const data::IdMap& user_ids() const { return id_map("users"); }
  const data::IdMap& item_ids() const { return id_map("items"); }

  // A model dimension by name ("users", "factors"...); throws naming it when absent.
  int64_t dimension(const std::string& name) const;
  // The full path of a file the manifest lists (and open() verified); throws for any other.
  std::filesystem::path file(const std::string& path) const;
  bool has_file(const std::string& path) const;  // whether the manifest lists it
  // The contents of a listed file (a JSON document a model or command added); throws like file().
  std::string text(const std::string& path) const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

}  // namespace aisle::io
