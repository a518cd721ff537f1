#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aisle/config.hpp"
#include "aisle/data/dataset.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/io/artifact_writer.hpp"
#include "aisle/io/id_map_file.hpp"
#include "aisle/io/safetensors.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::error_message;
using testing::TempDir;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

data::IdMap shop_users() {
  data::IdInterner users;
  for (const char* id : {"ana", "bo", "cy"}) users.intern(id);
  return users.to_map();
}

// A small model: two factor tables, string user ids, dense item ids, metrics, a recipe copy and
// a file in a subdirectory.
void write_artifact(const fs::path& dir, bool overwrite = false, float scale = 1) {
  ArtifactWriter w(dir, overwrite);
  w.set_model("bpr", R"({"factors": 2, "lr": 0.05, "loss": "bpr"})", {{"users", 3}, {"items", 4}, {"factors", 2}});
  w.write_weights({{"user_factors", Tensor::from_vector<float>({1 * scale, 2, 3, 4, 5, 6}, {3, 2})},
                   {"item_factors", Tensor::from_vector<float>({0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4}, {4, 2})},
                   {"item_bias", Tensor::from_vector<double>({0.1, 0.2, 0.3, 0.4})}},
                  {{"producer", "artifact_dir_test"}});
  w.write_id_map("users", shop_users());
  w.write_id_map("items", data::IdMap::dense(4));
  w.write_file("recipe.yaml", "model:\n  type: bpr\n");
  w.write_file("extra/notes.txt", "hello");
  w.set_metrics({{"recall@20", 0.25}, {"ndcg@20", 0.125}, {"auc", std::nan("")}});
  w.finish();
}

json manifest_json(const fs::path& dir) { return json::parse(read_text(dir / "manifest.json")); }
void rewrite_manifest(const fs::path& dir, const json& m) { write_text(dir / "manifest.json", m.dump(2)); }

std::string open_error(const fs::path& dir) {
  try {
    ArtifactReader::open(dir);
  } catch (const ArtifactError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "(no error)";
}

TEST(ArtifactDir, RoundTripsManifestWeightsAndIdMaps) {
  TempDir tmp;
  write_artifact(tmp / "model");
  const ArtifactReader a = ArtifactReader::open(tmp / "model");
  const Manifest& m = a.manifest();
  EXPECT_EQ(m.model_type, "bpr");
  EXPECT_EQ(json::parse(m.hyperparameters), json::parse(R"({"factors": 2, "lr": 0.05, "loss": "bpr"})"));
  EXPECT_EQ(m.dimensions, (std::map<std::string, int64_t>{{"users", 3}, {"items", 4}, {"factors", 2}}));
  EXPECT_EQ(a.dimension("factors"), 2);
  EXPECT_MESSAGE_HAS(error_message([&] { a.dimension("layers"); }), "no model dimension 'layers'");
  EXPECT_EQ(m.metrics.at("recall@20"), 0.25);
  EXPECT_EQ(m.metrics.at("ndcg@20"), 0.125);
  EXPECT_TRUE(std::isnan(m.metrics.at("auc")));
  EXPECT_EQ(m.aisle_version, AISLE_VERSION);
  EXPECT_EQ(m.weights, "weights.safetensors");

  EXPECT_EQ(a.tensor("user_factors").to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.tensor("item_factors").shape(), (Shape{4, 2}));
  EXPECT_EQ(a.tensor("item_bias").to_vector<double>(), (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(a.tensors().size(), 3u);
  EXPECT_EQ(a.weights_metadata().at("producer"), "artifact_dir_test");
  const std::string missing = error_message([&] { a.tensor("bias"); });
  EXPECT_MESSAGE_HAS(missing, "the weights have no tensor 'bias' (they have: item_bias, item_factors, user_factors)");

  EXPECT_EQ(a.user_ids().external(1), "bo");
  EXPECT_EQ(a.user_ids().find("cy"), 2);
  EXPECT_TRUE(a.item_ids().is_dense());
  EXPECT_EQ(a.item_ids().size(), 4);
  EXPECT_FALSE(a.has_id_map("categories"));
  EXPECT_MESSAGE_HAS(error_message([&] { a.id_map("categories"); }), "has no 'categories' id map");

  EXPECT_EQ(read_text(a.file("extra/notes.txt")), "hello");
  EXPECT_MESSAGE_HAS(error_message([&] { a.file("manifest.json"); }), "is not a file of the artifact");
}

TEST(ArtifactDir, ManifestListsEveryFileWithSizeAndChecksum) {
  TempDir tmp;
  write_artifact(tmp / "model");
  const json m = manifest_json(tmp / "model");
  EXPECT_EQ(m["format"], "aisle-artifact");
  EXPECT_EQ(m["format_version"], 1);
  EXPECT_EQ(m["model"]["type"], "bpr");
  EXPECT_EQ(m["model"]["hyperparameters"]["lr"], 0.05);
  EXPECT_EQ(m["model"]["dimensions"]["items"], 4);
  EXPECT_EQ(m["weights"], "weights.safetensors");
  EXPECT_EQ(m["id_maps"], json::parse(R"({"users": "users.ids.safetensors", "items": "items.ids.safetensors"})"));
  EXPECT_TRUE(m["metrics"]["auc"].is_null());
  EXPECT_EQ(m["produced_by"]["name"], "aisle");
  EXPECT_EQ(m["produced_by"]["version"], AISLE_VERSION);
  std::vector<std::string> paths;
  for (const json& f : m["files"]) {
    const std::string path = f["path"];
    paths.push_back(path);
    EXPECT_EQ(f["bytes"].get<uintmax_t>(), fs::file_size(tmp / "model" / path)) << path;
    EXPECT_EQ(f["sha256"], data::sha256_file(tmp / "model" / path)) << path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"extra/notes.txt", "items.ids.safetensors", "recipe.yaml",
                                             "users.ids.safetensors", "weights.safetensors"}));
  // Deterministic: the same content gives the same manifest, byte for byte.
  write_artifact(tmp / "again");
  EXPECT_EQ(read_text(tmp / "model/manifest.json"), read_text(tmp / "again/manifest.json"));
  // Nothing but the artifact is left in the parent directory (no temporary directories).
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 2);
}

TEST(ArtifactDir, RefusesAFlippedByte) {
  TempDir tmp;
  write_artifact(tmp / "model");
  const fs::path weights = tmp / "model/weights.safetensors";
  std::string bytes = read_text(weights);
  bytes[bytes.size() - 3] ^= 0x01;
  write_text(weights, bytes);
  const std::string m = open_error(tmp / "model");
  EXPECT_MESSAGE_HAS(m, "weights.safetensors: checksum mismatch");
  EXPECT_MESSAGE_HAS(m, "the file was changed or corrupted");
}

TEST(ArtifactDir, RefusesATruncatedOrGrownFile) {
  TempDir tmp;
  write_artifact(tmp / "model");
  const fs::path weights = tmp / "model/weights.safetensors";
  const uintmax_t size = fs::file_size(weights);
  fs::resize_file(weights, size - 10);
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "weights.safetensors: " + std::to_string(size - 10) +
                                                    " bytes, but manifest.json records " + std::to_string(size) +
                                                    " (truncated)");
  fs::resize_file(weights, size + 1);
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "(changed)");
}

TEST(ArtifactDir, RefusesAMissingFileOrManifest) {
  TempDir tmp;
  write_artifact(tmp / "model");
  fs::remove(tmp / "model/users.ids.safetensors");
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "users.ids.safetensors: listed in manifest.json but missing");
  fs::remove(tmp / "model/manifest.json");
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "not an Aisle artifact (no manifest.json)");
  EXPECT_MESSAGE_HAS(open_error(tmp / "nowhere"), "nowhere: no such artifact directory");
}

TEST(ArtifactDir, RefusesOtherFormatsAndVersions) {
  TempDir tmp;
  write_artifact(tmp / "model");
  json m = manifest_json(tmp / "model");
  m["format_version"] = 2;
  rewrite_manifest(tmp / "model", m);
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"),
                     "manifest.json: artifact format version 2 is not supported by this Aisle (it reads version 1)");
  m["format_version"] = "1";
  rewrite_manifest(tmp / "model", m);
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "field 'format_version' must be an integer");
  m["format"] = "aisle-dataset";
  rewrite_manifest(tmp / "model", m);
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "not an Aisle artifact manifest");
  write_text(tmp / "model/manifest.json", "{\"format\": ");
  EXPECT_MESSAGE_HAS(open_error(tmp / "model"), "manifest.json: invalid JSON");
}

// Decision: keys this version does not know are ignored (optional additions need no version bump),
// but every known field must be present with the right type.
TEST(ArtifactDir, ToleratesUnknownKeysButNotMissingOrMistypedFields) {
  TempDir tmp;
  write_artifact(tmp / "model");
  json m = manifest_json(tmp / "model");
  m["future_field"] = {{"anything", true}};
  m["model"]["onnx"] = "model.onnx";
  m["files"][0]["mode"] = "0644";
  rewrite_manifest(tmp / "model", m);
  EXPECT_EQ(open_error(tmp / "model"), "(no error)");

  auto error_with = [&](const std::function<void(json&)>& edit) {
    json changed = m;
    edit(changed);
    rewrite_manifest(tmp / "model", changed);
    return open_error(tmp / "model");
  };
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["model"]["type"] = 3; }), "field 'model.type' must be a string");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["model"].erase("dimensions"); }), "missing field 'model.dimensions'");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["model"]["dimensions"]["users"] = 2.5; }),
                     "field 'model.dimensions.users' must be an integer");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["metrics"]["auc"] = "high"; }), "'metrics.auc' must be a number or null");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j.erase("produced_by"); }), "missing field 'produced_by'");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["files"][1]["bytes"] = -1; }), "'files[1].bytes' must be a non-negative");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["files"][1]["sha256"] = "abc"; }), "is not 64 lowercase hex digits");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["files"].erase(4); }),
                     "field 'weights' names 'weights.safetensors', which 'files' does not list");
  EXPECT_MESSAGE_HAS(error_with([](json& j) { j["files"].push_back(j["files"][0]); }), "is listed twice");
}

TEST(ArtifactDir, RefusesPathsOutsideTheArtifact) {
  TempDir tmp;
  write_artifact(tmp / "model");
  write_text(tmp / "secret", "x");
  for (const char* bad : {"../secret", "/etc/passwd", "a//b", "./weights.safetensors", "manifest.json", ""}) {
    json m = manifest_json(tmp / "model");
    m["files"][0]["path"] = bad;
    rewrite_manifest(tmp / "model", m);
    const std::string e = open_error(tmp / "model");
    EXPECT_TRUE(e.find("not a relative path") != std::string::npos ||
                e.find("not a plain relative path") != std::string::npos ||
                e.find("reserved for the manifest") != std::string::npos)
        << bad << ": " << e;
  }
}

TEST(ArtifactWriter, RefusesToOverwriteUnlessAskedThenReplacesWholly) {
  TempDir tmp;
  write_artifact(tmp / "model");
  EXPECT_MESSAGE_HAS(error_message([&] { write_artifact(tmp / "model"); }), "model: already exists");
  write_text(tmp / "model/stale.txt", "from before");
  write_artifact(tmp / "model", /*overwrite=*/true, /*scale=*/10);
  const ArtifactReader a = ArtifactReader::open(tmp / "model");
  EXPECT_EQ(a.tensor("user_factors").to_vector<float>()[0], 10);
  EXPECT_FALSE(fs::exists(tmp / "model/stale.txt"));  // replaced, not merged
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);

  // Never replaces something that is not an artifact, even when asked.
  fs::create_directories(tmp / "home/docs");
  EXPECT_MESSAGE_HAS(error_message([&] { write_artifact(tmp / "home", true); }),
                     "exists and is not an Aisle artifact (no manifest.json); refusing to replace it");
  EXPECT_TRUE(fs::exists(tmp / "home/docs"));
  fs::create_directories(tmp / "empty");
  write_artifact(tmp / "empty", true);
  EXPECT_TRUE(fs::exists(tmp / "empty/manifest.json"));
}

TEST(ArtifactWriter, AnUnfinishedArtifactLeavesNothingBehind) {
  TempDir tmp;
  {
    ArtifactWriter w(tmp / "model");
    w.set_model("mf");
    w.write_weights({{"w", Tensor::zeros({2})}});
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 0);
}

TEST(ArtifactWriter, RejectsMisuse) {
  TempDir tmp;
  ArtifactWriter w(tmp / "model");
  EXPECT_MESSAGE_HAS(error_message([&] { w.finish(); }), "set_model() was not called");
  EXPECT_MESSAGE_HAS(error_message([&] { w.set_model("mf", "[1, 2]"); }), "hyperparameters must be a JSON object");
  EXPECT_MESSAGE_HAS(error_message([&] { w.set_model("mf", "{lr: 1}"); }), "hyperparameters are not valid JSON");
  EXPECT_MESSAGE_HAS(error_message([&] { w.set_model(""); }), "empty model type");
  EXPECT_MESSAGE_HAS(error_message([&] { w.write_file("../escape.txt", "x"); }), "not a plain relative path");
  EXPECT_MESSAGE_HAS(error_message([&] { w.write_file("manifest.json", "{}"); }), "reserved for the manifest");
  EXPECT_MESSAGE_HAS(error_message([&] { w.write_id_map("Users!", data::IdMap::dense(1)); }), "role must be [a-z0-9_]+");
  w.write_file("a.txt", "1");
  EXPECT_MESSAGE_HAS(error_message([&] { w.write_file("a.txt", "2"); }), "'a.txt' was already written");
  EXPECT_MESSAGE_HAS(error_message([&] { w.copy_file("b.txt", tmp / "nope"); }), "nope: cannot open");
  w.set_model("mf");
  w.finish();
  EXPECT_MESSAGE_HAS(error_message([&] { w.write_file("c.txt", "3"); }), "is already finished");
  const ArtifactReader a = ArtifactReader::open(tmp / "model");
  EXPECT_TRUE(a.tensors().empty());
  EXPECT_EQ(a.manifest().hyperparameters, "{}");
  EXPECT_FALSE(manifest_json(tmp / "model").contains("weights"));
}

TEST(ArtifactWriter, CopiesFilesVerbatim) {
  TempDir tmp;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 1000);
  write_text(tmp / "src.bin", big);
  ArtifactWriter w(tmp / "model");
  w.set_model("popularity");
  w.copy_file("data/src.bin", tmp / "src.bin");
  w.finish();
  const ArtifactReader a = ArtifactReader::open(tmp / "model");
  EXPECT_EQ(read_text(a.file("data/src.bin")), big);
}

TEST(IdMapFile, RoundTripsStringDenseAndEmptyMaps) {
  TempDir tmp;
  write_id_map(tmp / "u.safetensors", shop_users());
  const data::IdMap u = read_id_map(tmp / "u.safetensors");
  EXPECT_EQ(u.size(), 3);
  EXPECT_EQ(u.external(0), "ana");
  EXPECT_EQ(u.find("bo"), 1);
  write_id_map(tmp / "d.safetensors", data::IdMap::dense(1000));
  const data::IdMap d = read_id_map(tmp / "d.safetensors");
  EXPECT_TRUE(d.is_dense());
  EXPECT_EQ(d.size(), 1000);
  write_id_map(tmp / "e.safetensors", data::IdInterner().to_map());
  EXPECT_EQ(read_id_map(tmp / "e.safetensors").size(), 0);
  // Plain safetensors underneath: any reader sees offsets and bytes.
  const SafetensorsContents raw = read_safetensors(tmp / "u.safetensors");
  EXPECT_EQ(raw.tensors.at("offsets").to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 5, 7}));
  EXPECT_EQ(raw.metadata.at("format"), "aisle-id-map");
}

TEST(IdMapFile, RefusesMalformedMaps) {
  TempDir tmp;
  const fs::path p = tmp / "m.safetensors";
  const Tensor offsets = Tensor::from_vector<int64_t>({0, 2, 4});
  const Tensor bytes = Tensor::from_vector<uint8_t>({'a', 'b', 'c', 'd'});
  auto error_for = [&](const std::map<std::string, Tensor>& t, const std::map<std::string, std::string>& meta) {
    write_safetensors(p, t, meta);
    try {
      read_id_map(p);
    } catch (const ArtifactError& e) {
      return std::string(e.what());
    }
    return std::string("(no ArtifactError)");
  };
  EXPECT_MESSAGE_HAS(error_for({}, {}), "not an Aisle id map (no 'format' in the metadata)");
  EXPECT_MESSAGE_HAS(error_for({}, {{"format", "other"}, {"kind", "dense"}, {"count", "1"}}), "format is 'other'");
  const std::map<std::string, std::string> meta{{"format", "aisle-id-map"}, {"kind", "strings"}, {"count", "3"}};
  EXPECT_MESSAGE_HAS(error_for({{"offsets", offsets}, {"bytes", bytes}}, meta), "3 ids need offsets [4], got [3] i64");
  EXPECT_MESSAGE_HAS(error_for({{"offsets", offsets}}, meta), "exactly the tensors 'offsets' and 'bytes'");
  EXPECT_MESSAGE_HAS(error_for({{"offsets", Tensor::from_vector<int64_t>({0, 2, 9})}, {"bytes", bytes}},
                               {{"format", "aisle-id-map"}, {"kind", "strings"}, {"count", "2"}}),
                     "m.safetensors: IdMap: offsets run from 0 to 9 but there are 4 bytes");
  EXPECT_MESSAGE_HAS(error_for({}, {{"format", "aisle-id-map"}, {"kind", "dense"}, {"count", "-1"}}),
                     "id count '-1' is not a non-negative integer");
  EXPECT_MESSAGE_HAS(error_for({}, {{"format", "aisle-id-map"}, {"kind", "hashed"}, {"count", "1"}}),
                     "unknown id map kind 'hashed'");
}

}  // namespace
}  // namespace aisle::io
