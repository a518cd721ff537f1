#include <charconv>
#include <string>

#include "aisle/core/device.hpp"
#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"

namespace aisle {

DType parse_dtype(std::string_view text) {
  struct Name { std::string_view name; DType dtype; };
  static constexpr Name kNames[] = {
      {"f32", DType::f32},   {"float32", DType::f32}, {"float", DType::f32},
      {"f64", DType::f64},   {"float64", DType::f64}, {"double", DType::f64},
      {"bf16", DType::bf16}, {"bfloat16", DType::bf16},
      {"f16", DType::f16},   {"float16", DType::f16}, {"half", DType::f16},
      {"i32", DType::i32},   {"int32", DType::i32},
      {"i64", DType::i64},   {"int64", DType::i64},
      {"u8", DType::u8},     {"uint8", DType::u8},    {"bool", DType::u8},
  };
  for (const auto& n : kNames)
    if (n.name == text) return n.dtype;
  AISLE_FAIL("unknown dtype '", text, "' (expected one of f32, f64, bf16, f16, i32, i64, u8)");
}

Device Device::parse(std::string_view text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.starts_with("cuda:")) {
    const std::string_view digits = text.substr(5);
    int index = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && end == digits.data() + digits.size() && index >= 0 && !digits.empty())
      return cuda(index);
  }
  AISLE_FAIL("unknown device '", text, "' (expected cpu, cuda or cuda:N)");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

}  // namespace aisle
