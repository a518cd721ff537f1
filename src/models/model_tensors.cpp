#include "src/models/model_tensors.hpp"

#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/data/graph.hpp"

namespace aisle::models {

Tensor expect_weight(const std::string& model, const std::map<std::string, Tensor>& tensors, const std::string& name,
                     const Shape& expected, bool artifact) {
  auto fail = [&](const std::string& why) {
    const std::string message = model + ": tensor '" + name + "' " + why;
    if (artifact) throw ArtifactError(message);
    throw Error(message);
  };
  const auto it = tensors.find(name);
  if (it == tensors.end()) fail("is missing");
  const Tensor& t = it->second;
  bool shape_ok = t.dim() == static_cast<int64_t>(expected.size());
  for (size_t a = 0; shape_ok && a < expected.size(); ++a)
    shape_ok = expected[a] < 0 || t.size(static_cast<int64_t>(a)) == expected[a];
  if (!shape_ok) fail("has shape " + shape_str(t.shape()) + ", expected " + shape_str(expected));
  if (t.dtype() != DType::f32 && t.dtype() != DType::f64)
    fail(std::string("has dtype ") + dtype_name(t.dtype()) + ", expected f32");
  return t.to(DType::f32);
}

ops::Csr csr_on_device(const ops::Csr& a, Device device) {
  if (!device.is_cuda()) return a;
  return ops::Csr{a.row_ptr.to(device), a.col_idx.to(device), a.values.to(device), a.rows, a.cols};
}

ops::Csr training_adjacency(const data::UserItemIndex& index, Device device) {
  const DType ids = data::compact_index_dtype(index.num_users() + index.num_items());
  return csr_on_device(data::bipartite_graph(index, {.index_dtype = ids}).adjacency, device);
}

Tensor item_nodes(const Tensor& items, int64_t num_users) {
  std::vector<int64_t> nodes = items.to_vector<int64_t>();
  for (int64_t& n : nodes) n += num_users;
  return Tensor::from_vector(nodes, items.shape());
}

}  // namespace aisle::models
