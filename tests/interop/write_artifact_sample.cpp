// Writes a small artifact with known values for the Python interop check (tests/CMakeLists.txt,
// "Python interop" block): every dtype, a scalar, an empty tensor and a string id map. The
// checksums the check expects, sum((i + 1) * value[i]), are worked out beside each tensor; change
// both together.
#include <cstdio>
#include <exception>

#include "aisle/io/artifact_writer.hpp"

using namespace aisle;

namespace {

template <class Half>
Tensor halves(std::initializer_list<float> values, const Shape& shape) {
  std::vector<Half> v;
  for (float f : values) v.push_back(Half(f));
  return Tensor::from_vector(v, shape);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    io::ArtifactWriter w(argv[1], /*overwrite=*/true);
    w.set_model("sample", R"({"purpose": "python interop"})", {{"users", 3}});
    w.write_weights(
        {
            {"user_factors", Tensor::from_vector<float>({0.5f, -1, 2, 3.25f, -4, 8}, {3, 2})},  // 45.5
            {"item_bias", Tensor::from_vector<double>({0.125, -2.5, 1000, 7})},                 // 3023.125
            {"emb_bf16", halves<bf16>({1, -0.5f, 3.25f, 256}, {2, 2})},                         // 1033.75
            {"emb_f16", halves<f16>({1.5f, -2, 0.25f}, {3})},                                   // -1.75
            {"counts", Tensor::from_vector<int32_t>({1, -2, 3, -4, 5, -6}, {2, 3})},            // -21
            {"ids", Tensor::from_vector<int64_t>({10000000000, -1, 42})},                       // 10000000124
            {"mask", Tensor::from_vector<uint8_t>({0, 1, 255, 7})},                             // 795
            {"step", Tensor::scalar<int64_t>(7)},                                               // 7
            {"global_mean", Tensor::scalar(3.5f)},                                              // 3.5
            {"empty", Tensor::zeros({0, 8})},                                                   // 0
        },
        {{"format", "aisle-test"}});
    // offsets [0, 3, 5, 7]: 0*1 + 3*2 + 5*3 + 7*4 = 49; bytes "anabocy" (ASCII codes): 2996
    data::IdInterner users;
    for (const char* id : {"ana", "bo", "cy"}) users.intern(id);
    w.write_id_map("users", users.to_map());
    w.finish();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_artifact_sample: %s\n", e.what());
    return 1;
  }
  return 0;
}
