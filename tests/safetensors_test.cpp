#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "aisle/io/safetensors.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::io {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using testing::TempDir;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file from its header text and data section, padded like the reference writer
// unless told otherwise.
std::string file_bytes(std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  return u64_le(header.size()) + header + data;
}

template <class T>
std::string le_bytes(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
  return s;
}

std::string tensor_bytes(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw_data()), t.nbytes());
}

Tensor bf16_tensor(std::initializer_list<float> values, const Shape& shape) {
  std::vector<bf16> v;
  for (float f : values) v.push_back(bf16(f));
  return Tensor::from_vector(v, shape);
}

Tensor f16_tensor(std::initializer_list<float> values, const Shape& shape) {
  std::vector<f16> v;
  for (float f : values) v.push_back(f16(f));
  return Tensor::from_vector(v, shape);
}

// The error a read of `bytes` raises (written to a file first); "(no error)" when it loads.
std::string read_error(const TempDir& tmp, const std::string& bytes) {
  const fs::path p = tmp / "bad.safetensors";
  write_bytes(p, bytes);
  std::string message = error_message([&] { read_safetensors(p); });
  try {
    read_safetensors(p);
  } catch (const ArtifactError&) {
    return message;  // the expected type
  } catch (...) {
    return "wrong exception type: " + message;
  }
  return message;
}

TEST(Safetensors, RoundTripsEveryDtypeScalarsAndEmptyTensors) {
  TempDir tmp;
  const std::map<std::string, Tensor> tensors{
      {"f32", Tensor::from_vector<float>({1.5f, -2, 3, 0.25f, 1e-30f, 7}, {2, 3})},
      {"f64", Tensor::from_vector<double>({3.141592653589793, -1e300, 0, 2})},
      {"bf16", bf16_tensor({1, -0.5f, 3.25f}, {3})},
      {"f16", f16_tensor({1, -2, 0.5f, 65504}, {2, 2})},
      {"i32", Tensor::from_vector<int32_t>({1, -2, 2147483647, -2147483647 - 1, 0})},
      {"i64", Tensor::from_vector<int64_t>({int64_t{1} << 62, -5}, {2, 1})},
      {"u8", Tensor::from_vector<uint8_t>({0, 1, 255, 7, 9, 10, 11})},
      {"scalar_f32", Tensor::scalar(2.5f)},
      {"scalar_i64", Tensor::scalar<int64_t>(-42)},
      {"empty_f32", Tensor::zeros({0, 4})},
      {"empty_u8", Tensor::zeros({0}, DType::u8)},
      {"empty_bf16", Tensor::zeros({3, 0, 2}, DType::bf16)},
  };
  const std::map<std::string, std::string> metadata{{"model", "bpr"}, {"note", "ünïcode ok"}};
  write_safetensors(tmp / "t.safetensors", tensors, metadata);
  const SafetensorsContents back = read_safetensors(tmp / "t.safetensors");
  EXPECT_EQ(back.metadata, metadata);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    const Tensor& r = back.tensors.at(name);
    EXPECT_EQ(r.dtype(), t.dtype());
    EXPECT_EQ(r.shape(), t.shape());
    EXPECT_FALSE(r.is_cuda());
    EXPECT_EQ(tensor_bytes(r), tensor_bytes(t));
    if (r.numel() > 0) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(r.raw_data()) % dtype_size(r.dtype()), 0u);
    }
  }
  // File order: larger elements first, then by name (the reference writer's order).
  EXPECT_EQ(back.names, (std::vector<std::string>{"i64", "scalar_i64", "f64", "empty_f32", "f32", "scalar_f32",
                                                  "i32", "bf16", "empty_bf16", "f16", "empty_u8", "u8"}));
}

TEST(Safetensors, NoTensorsAndNoMetadataIsTheReferenceEmptyFile) {
  TempDir tmp;
  write_safetensors(tmp / "e.safetensors", {});
  EXPECT_EQ(read_bytes(tmp / "e.safetensors"), u64_le(8) + "{}      ");
  const SafetensorsContents back = read_safetensors(tmp / "e.safetensors");
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_TRUE(back.metadata.empty());
}

// Bytes written out by hand: u64 header length, compact JSON (metadata first, then tensors by
// descending element size and name, keys dtype/shape/data_offsets), space padding to a multiple
// of 8, then the values little-endian. Python's safetensors 0.8 produces exactly these bytes.
TEST(Safetensors, HeaderLayoutIsByteExact) {
  TempDir tmp;
  write_safetensors(tmp / "x.safetensors",
                    {{"b", Tensor::from_vector<int32_t>({1, 2, -3})},
                     {"a", Tensor::from_vector<double>({0.5, -2})},
                     {"c", Tensor::scalar(1.0f)},
                     {"e", Tensor::zeros({0, 3}, DType::u8)},
                     {"h", f16_tensor({1}, {1})},
                     {"g", bf16_tensor({1, -0.5f}, {2})},
                     {"i", Tensor::from_vector<int64_t>({-7})},
                     {"u", Tensor::from_vector<uint8_t>({7, 255})}},
                    {{"k", "v"}});
  const std::string header =
      R"({"__metadata__":{"k":"v"},)"
      R"("i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},)"
      R"("c":{"dtype":"F32","shape":[],"data_offsets":[24,28]},)"
      R"("b":{"dtype":"I32","shape":[3],"data_offsets":[28,40]},)"
      R"("g":{"dtype":"BF16","shape":[2],"data_offsets":[40,44]},)"
      R"("h":{"dtype":"F16","shape":[1],"data_offsets":[44,46]},)"
      R"("e":{"dtype":"U8","shape":[0,3],"data_offsets":[46,46]},)"
      R"("u":{"dtype":"U8","shape":[2],"data_offsets":[46,48]}})";
  ASSERT_EQ(header.size(), 463u);
  const unsigned char data[] = {
      0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // i64 -7
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,  // f64 0.5
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,  // f64 -2
      0x00, 0x00, 0x80, 0x3f,                          // f32 1
      0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xff, 0xff, 0xff,  // i32 1, 2, -3
      0x80, 0x3f, 0x00, 0xbf,                          // bf16 1, -0.5
      0x00, 0x3c,                                      // f16 1
      0x07, 0xff,                                      // u8 7, 255
  };
  const std::string expected = u64_le(464) + header + " " + std::string(reinterpret_cast<const char*>(data), sizeof data);
  EXPECT_EQ(read_bytes(tmp / "x.safetensors"), expected);
}

// The reference implementation's own serialization test: "attn.0", F32 [1, 2, 3], values 0..5.
TEST(Safetensors, MatchesTheReferenceTestVector) {
  TempDir tmp;
  write_safetensors(tmp / "r.safetensors", {{"attn.0", Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {1, 2, 3})}});
  const std::string expected = u64_le(64) + R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" +
                               le_bytes<float>({0, 1, 2, 3, 4, 5});
  EXPECT_EQ(read_bytes(tmp / "r.safetensors"), expected);
}

TEST(Safetensors, ReadsFilesFromOtherWritersInAnyHeaderOrder) {
  TempDir tmp;
  // Tensors listed out of data order, unknown extra keys in an entry, and no padding: the f32
  // data then starts at an odd file offset and is copied rather than mapped misaligned.
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[1,9],"extra":10},"b":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})";
  const fs::path p = tmp / "o.safetensors";
  write_bytes(p, file_bytes(header, std::string("\x05") + le_bytes<float>({1.5f, -4}), /*pad=*/false));
  const SafetensorsContents back = read_safetensors(p);
  EXPECT_EQ(back.names, (std::vector<std::string>{"b", "w"}));
  EXPECT_EQ(back.tensors.at("w").to_vector<float>(), (std::vector<float>{1.5f, -4}));
  EXPECT_EQ(back.tensors.at("b").item<uint8_t>(), 5);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(back.tensors.at("w").raw_data()) % 4, 0u);
}

TEST(Safetensors, TensorsOutliveTheFileAndNeverWriteToIt) {
  TempDir tmp;
  const fs::path p = tmp / "w.safetensors";
  write_safetensors(p, {{"v", Tensor::from_vector<float>({1, 2, 3})}});
  const std::string before = read_bytes(p);
  Tensor v = read_safetensors(p).tensors.at("v");
  v.data<float>()[0] = 100;  // private copy-on-write mapping: only this process sees it
  EXPECT_EQ(read_bytes(p), before);
  EXPECT_EQ(read_safetensors(p).tensors.at("v").to_vector<float>(), (std::vector<float>{1, 2, 3}));
  fs::remove(p);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{100, 2, 3}));
}

TEST(Safetensors, WritingReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  TempDir tmp;
  const fs::path p = tmp / "a.safetensors";
  write_safetensors(p, {{"x", Tensor::from_vector<int64_t>({1})}});
  write_safetensors(p, {{"y", Tensor::from_vector<int64_t>({2, 3})}});
  const SafetensorsContents back = read_safetensors(p);
  EXPECT_EQ(back.names, std::vector<std::string>{"y"});
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
  // A failing write (bad name) leaves neither the target nor a temporary file.
  EXPECT_THROW(write_safetensors(tmp / "b.safetensors", {{"", Tensor::scalar(1.0f)}}), Error);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(Safetensors, WriterRejectsBadNamesAndTensors) {
  TempDir tmp;
  const fs::path p = tmp / "n.safetensors";
  EXPECT_MESSAGE_HAS(error_message([&] { write_safetensors(p, {{"", Tensor::scalar(1.0f)}}); }), "empty name");
  EXPECT_MESSAGE_HAS(error_message([&] { write_safetensors(p, {{"__metadata__", Tensor::scalar(1.0f)}}); }),
                     "reserved for the metadata");
  EXPECT_MESSAGE_HAS(error_message([&] { write_safetensors(p, {{"u", Tensor()}}); }), "tensor 'u' is undefined");
  EXPECT_MESSAGE_HAS(error_message([&] { write_safetensors(p, {{"bad\xff", Tensor::scalar(1.0f)}}); }), "UTF-8");
  EXPECT_MESSAGE_HAS(error_message([&] { write_safetensors(tmp / "no/such/dir/x.safetensors", {}); }), "cannot create");
  EXPECT_FALSE(fs::exists(p));
}

// ---- malformed files: each is refused with an aisle::ArtifactError naming the file and problem --

const std::string kTwoFloats = le_bytes<float>({1, 2});

TEST(SafetensorsCorrupt, FileShorterThanTheLengthField) {
  TempDir tmp;
  const std::string m = read_error(tmp, "abc");
  EXPECT_MESSAGE_HAS(m, "bad.safetensors");
  EXPECT_MESSAGE_HAS(m, "3 bytes is shorter than the 8-byte header length field");
  EXPECT_MESSAGE_HAS(read_error(tmp, ""), "0 bytes is shorter");
}

TEST(SafetensorsCorrupt, HeaderLengthBeyondTheFileOrAbsurd) {
  TempDir tmp;
  EXPECT_MESSAGE_HAS(read_error(tmp, u64_le(100) + "{}"), "header length 100 runs past the end of the file (10 bytes)");
  EXPECT_MESSAGE_HAS(read_error(tmp, u64_le(uint64_t{1} << 40) + "{}"), "exceeds the 100000000-byte limit");
  EXPECT_MESSAGE_HAS(read_error(tmp, u64_le(~uint64_t{0}) + "{}"), "exceeds the 100000000-byte limit");
}

TEST(SafetensorsCorrupt, InvalidJsonOrNotAnObject) {
  TempDir tmp;
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w": {)", "")), "the header is not valid JSON");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(std::string("{}\0\0", 4), "")), "not valid JSON");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes("[1, 2]", "")), "the header must be a JSON object, got array");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w": 3})", "")), "tensor 'w': expected an object");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w": {"dtype": "F32", "shape": [2]}})", kTwoFloats)),
                     "tensor 'w' has no 'data_offsets'");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"__metadata__": {"a": 1}})", "")),
                     "__metadata__ value of 'a' must be a string");
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  TempDir tmp;
  const std::string m = read_error(tmp, file_bytes(R"({"w":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_MESSAGE_HAS(m, "tensor 'w' has dtype \"I16\", which Aisle does not support");
}

TEST(SafetensorsCorrupt, ShapeDoesNotMatchTheByteCount) {
  TempDir tmp;
  const std::string m =
      read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", kTwoFloats));
  EXPECT_MESSAGE_HAS(m, "tensor 'w': data_offsets [0, 8] hold 8 bytes, but F32 [2,2] needs 16");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kTwoFloats)),
                     "a shape dimension must be a non-negative integer, got -2");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})",
                                                kTwoFloats)),
                     "overflows a 64-bit byte count");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}})", kTwoFloats)),
                     "data_offsets[1] must be a non-negative integer");
}

TEST(SafetensorsCorrupt, OffsetsReversedOverlappingOrWithGaps) {
  TempDir tmp;
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", kTwoFloats)),
                     "tensor 'w': data_offsets [8, 0] end before they begin");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                kTwoFloats)),
                     "tensor 'b' (data_offsets [4, 8]) overlaps tensor 'a' ([0, 8])");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                                kTwoFloats + kTwoFloats)),
                     "4 unused bytes before tensor 'b' (data_offsets [8, 12])");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", kTwoFloats)),
                     "4 unused bytes before tensor 'a'");
}

TEST(SafetensorsCorrupt, OffsetsBeyondTheFileOrTrailingBytes) {
  TempDir tmp;
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", kTwoFloats)),
                     "tensor 'w' (data_offsets [0, 16]) runs past the end of the file: the data section has 8 bytes");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", kTwoFloats)),
                     "4 trailing bytes after the last tensor");
}

TEST(SafetensorsCorrupt, DuplicateNames) {
  TempDir tmp;
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                kTwoFloats)),
                     "the header names 'w' twice");
  EXPECT_MESSAGE_HAS(read_error(tmp, file_bytes(R"({"__metadata__":{"k":"a","k":"b"}})", "")), "names 'k' twice");
}

TEST(SafetensorsCorrupt, TruncatedFileFromTheWriter) {
  TempDir tmp;
  const fs::path p = tmp / "t.safetensors";
  write_safetensors(p, {{"a", Tensor::zeros({4})}, {"b", Tensor::zeros({3}, DType::u8)}});
  fs::resize_file(p, fs::file_size(p) - 1);
  const std::string m = error_message([&] { read_safetensors(p); });
  EXPECT_MESSAGE_HAS(m, "t.safetensors: tensor 'b' (data_offsets [16, 19]) runs past the end of the file");
  EXPECT_MESSAGE_HAS(error_message([&] { read_safetensors(tmp / "missing.safetensors"); }),
                     "missing.safetensors: cannot open");
}

// Random byte flips and truncations of a valid file: every outcome is a clean load or an
// ArtifactError, never another exception (or, under the sanitizers, a bad memory access).
TEST(SafetensorsCorrupt, RandomDamageIsAlwaysCaughtCleanly) {
  TempDir tmp;
  const fs::path p = tmp / "ok.safetensors";
  write_safetensors(p, {{"a", Tensor::from_vector<float>({1, 2, 3}, {3})},
                        {"b", Tensor::from_vector<int64_t>({4, 5})},
                        {"c", f16_tensor({1}, {})}},
                    {{"k", "v"}});
  const std::string good = read_bytes(p);
  std::mt19937 rng(7);
  int refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string bad = good;
    if (trial % 4 == 0) {
      bad.resize(rng() % bad.size());
    } else {
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips)
        bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    write_bytes(p, bad);
    try {
      read_safetensors(p);
    } catch (const ArtifactError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": not an ArtifactError: " << e.what();
    }
  }
  EXPECT_GT(refused, 100);  // flips in the data section load fine; the rest must be refused
}

}  // namespace
}  // namespace aisle::io
