#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "aisle/tensor/tensor.hpp"

// Tensors in the safetensors format (https://github.com/huggingface/safetensors), which the Python
// `safetensors` package, PyTorch, JAX and most model hubs read:
//
//   8 bytes   N, the header length, u64 little-endian
//   N bytes   JSON: {"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [..],
//             "data_offsets": [BEGIN, END]}, ...}, padded with spaces to a multiple of 8 bytes
//   rest      the tensors' raw little-endian row-major bytes, back to back; offsets are relative
//             to the first byte after the header
//
// Aisle's dtypes map to F32, F64, BF16, F16, I32, I64 and U8.
namespace aisle::io {

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> names;  // in file order (by data offset)
  std::map<std::string, std::string> metadata;  // the optional "__metadata__" object
};

// Writes atomically: a temporary file beside `path`, fsync, rename. The layout is the reference
// implementation's (tensors by descending element size, then name; compact JSON; space padding),
// so the bytes equal what Python's safetensors.numpy.save_file writes for the same tensors (with
// at most one metadata key, whose order Python does not fix). CUDA tensors are copied to the
// host. Throws aisle::Error for bad names (empty, "__metadata__", not UTF-8) and write failures.
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Memory-maps the file and returns CPU tensors over its pages, no copy (the mapping lives as long
// as any tensor does; it is private copy-on-write, so writing into a tensor never changes the
// file). A tensor whose bytes are not aligned to its element size (files from writers that do not
// pad the header) is copied instead. Everything is validated first; a malformed file throws
// aisle::ArtifactError naming the file and the problem.
SafetensorsContents read_safetensors(const std::filesystem::path& path);

}  // namespace aisle::io
