#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace aisle {

// Tensors are always dense and row-major, so a shape alone fixes the layout.
using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"
// Resolves a possibly negative axis against a rank; throws aisle::Error naming `op` if out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op);

}  // namespace aisle
