#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// manifest.json, the table of contents of an artifact directory (format "aisle-artifact", version
// 1):
//
//   {
//     "format": "aisle-artifact",
//     "format_version": 1,
//     "model": {"type": "bpr", "hyperparameters": {...any JSON object...},
//               "dimensions": {"users": 943, "items": 1682, "factors": 64}},
//     "weights": "weights.safetensors",                       (absent when there are none)
//     "id_maps": {"users": "users.ids.safetensors", "items": "items.ids.safetensors"},
//     "metrics": {"recall@20": 0.1234, "auc": null},         (null: not a finite number)
//     "produced_by": {"name": "aisle", "version": "0.1.0", "git_commit": "..."},  (commit optional)
//     "files": [{"path": "weights.safetensors", "bytes": 1234, "sha256": "<64 hex digits>"}, ...]
//   }
//
// "files" lists every file of the artifact except manifest.json, sorted by path; "weights" and
// "id_maps" name entries of it. Keys this version does not know are ignored when reading, so
// optional additions do not need a new format_version; anything a version-1 reader would misread
// does.
namespace aisle::io {

constexpr int kArtifactFormatVersion = 1;
constexpr std::string_view kArtifactFormat = "aisle-artifact";
constexpr std::string_view kManifestFile = "manifest.json";

struct ArtifactFile {
  std::string path;  // relative to the artifact directory, '/'-separated
  uint64_t bytes = 0;
  std::string sha256;  // lowercase hex
};

struct Manifest {
  std::string model_type;
  std::string hyperparameters = "{}";  // a JSON object, as text
  std::map<std::string, int64_t> dimensions;
  std::string weights;  // relative path; empty when the artifact has no weights file
  std::map<std::string, std::string> id_maps;  // role ("users", "items") -> relative path
  std::map<std::string, double> metrics;  // NaN where the manifest records null
  std::string aisle_version;  // of the build that wrote it
  std::string git_commit;  // empty when unknown
  std::vector<ArtifactFile> files;

  // Pretty-printed JSON with a trailing newline; keys in the order shown above.
  std::string to_json() const;
  // Checks format, version, every field's type, that paths are plain relative paths inside the
  // artifact, listed once, and that weights and id_maps name listed files. Throws
  // aisle::ArtifactError prefixed with `where` (the manifest's path).
  static Manifest parse(std::string_view text, const std::string& where);
};

// Throws aisle::ArtifactError unless `path` is a non-empty relative path whose components are
// neither empty, ".", nor ".." (so it cannot leave the artifact) and that is not the manifest.
void check_artifact_path(std::string_view path, const std::string& where);

}  // namespace aisle::io
