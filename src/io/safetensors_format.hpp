#pragma once
// Internal: the parts of the safetensors format shared by the reader and the writer.
#include <cstdint>
#include <optional>
#include <string_view>

#include "aisle/core/dtype.hpp"

namespace aisle::io::detail {

// The reference implementation refuses larger headers, to bound the JSON it parses.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

constexpr std::string_view safetensors_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::bf16: return "BF16";
    case DType::f16: return "F16";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  return "?";
}

inline std::optional<DType> parse_safetensors_dtype(std::string_view name) {
  for (DType t : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8})
    if (safetensors_dtype(t) == name) return t;
  return std::nullopt;
}

// The position of each dtype in the reference implementation's Dtype enum. Its writer orders
// tensors by this, descending, then by name; larger elements first keeps every tensor aligned to
// its element size (the data section starts 8-aligned). Using the same order makes our files
// byte-identical to theirs.
constexpr int reference_dtype_rank(DType t) {
  switch (t) {
    case DType::u8: return 1;
    case DType::f16: return 7;
    case DType::bf16: return 8;
    case DType::i32: return 9;
    case DType::f32: return 11;
    case DType::f64: return 12;
    case DType::i64: return 13;
  }
  return 0;
}

}  // namespace aisle::io::detail
