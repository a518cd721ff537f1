#include "aisle/tensor/shape.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  AISLE_CHECK(a >= 0 && a < rank, op, ": axis ", axis, " is out of range for a ", rank,
              "-D tensor");
  return a;
}

}  // namespace aisle
