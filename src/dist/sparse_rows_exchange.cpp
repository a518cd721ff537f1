#include "src/dist/sparse_rows_exchange.hpp"

#include <algorithm>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::dist {
namespace {

Shape rows_shape(int64_t n, const Shape& row_shape) {
  Shape s{n};
  s.insert(s.end(), row_shape.begin(), row_shape.end());
  return s;
}

void check_rows(const ops::SparseRows& g, const Shape& row_shape, const char* op) {
  AISLE_CHECK(g.indices.defined() && g.rows.defined(), op, ": the rows are undefined (pass [0] ids and [0, ...] ",
              "rows when a rank has none)");
  AISLE_CHECK(g.indices.dtype() == DType::i64 && g.indices.dim() == 1, op, ": ids must be 1-D i64, got ",
              g.indices.describe());
  AISLE_CHECK(g.rows.shape() == rows_shape(g.indices.size(0), row_shape), op, ": rows ", g.rows.describe(),
              " do not match ids ", g.indices.describe(), " and the row shape ", shape_str(row_shape));
}

// Positions of `ids` grouped by owner (id % world), each group in its original order.
struct ByOwner {
  std::vector<int64_t> order;  // positions, grouped
  std::vector<int64_t> counts;  // per owner
};

ByOwner group_by_owner(const std::vector<int64_t>& ids, int64_t world, const char* op) {
  ByOwner g;
  g.counts.assign(static_cast<size_t>(world), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    AISLE_CHECK(ids[i] >= 0, op, ": id ", ids[i], " at ", i, " is negative");
    ++g.counts[static_cast<size_t>(ids[i] % world)];
  }
  std::vector<int64_t> next(static_cast<size_t>(world), 0);
  for (int64_t r = 1; r < world; ++r) next[static_cast<size_t>(r)] = next[static_cast<size_t>(r - 1)] + g.counts[static_cast<size_t>(r - 1)];
  g.order.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) g.order[static_cast<size_t>(next[static_cast<size_t>(ids[i] % world)]++)] = static_cast<int64_t>(i);
  return g;
}

Tensor host_ids(const std::vector<int64_t>& ids, Device device) { return Tensor::from_vector(ids).to(device); }

// This rank's coalesced sums of the rows every rank sent for the ids it owns, by GLOBAL id.
ops::SparseRows sum_at_owners(Communicator& comm, const ops::SparseRows& mine, const Shape& row_shape,
                              const char* op) {
  check_rows(mine, row_shape, op);
  const Device device = mine.rows.device();
  const std::vector<int64_t> ids = mine.indices.to(Device::cpu()).to_vector<int64_t>();
  const ByOwner groups = group_by_owner(ids, comm.world_size(), op);
  std::vector<int64_t> sent_ids(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) sent_ids[i] = ids[static_cast<size_t>(groups.order[i])];
  const Tensor order = host_ids(groups.order, device);
  const Communicator::Received got_ids = comm.all_to_all_v(host_ids(sent_ids, device), groups.counts);
  const Communicator::Received got_rows = comm.all_to_all_v(ops::gather_rows(mine.rows, order), groups.counts);
  // Received in rank order, and coalescing sums duplicates in the order they appear.
  return ops::coalesce_rows(got_ids.rows, got_rows.rows);
}

}  // namespace

ops::SparseRows all_reduce_rows(Communicator& comm, const ops::SparseRows& mine, const Shape& row_shape) {
  const ops::SparseRows owned = sum_at_owners(comm, mine, row_shape, "all_reduce_rows");
  // Every owner's sums to every rank; owners hold disjoint ids, so coalescing only sorts.
  const int world = comm.world_size();
  const int64_t n = owned.indices.size(0);
  std::vector<int64_t> counts(static_cast<size_t>(world), n);
  std::vector<int64_t> repeat(static_cast<size_t>(n * world));
  for (size_t i = 0; i < repeat.size(); ++i) repeat[i] = static_cast<int64_t>(i) % std::max<int64_t>(n, 1);
  const Tensor index = host_ids(repeat, owned.rows.device());
  const Communicator::Received ids = comm.all_to_all_v(ops::gather_rows(owned.indices, index), counts);
  const Communicator::Received rows = comm.all_to_all_v(ops::gather_rows(owned.rows, index), counts);
  return ops::coalesce_rows(ids.rows, rows.rows);
}

ops::SparseRows reduce_rows_to_owners(Communicator& comm, const ops::SparseRows& mine, const RowSharding& sharding,
                                      const Shape& row_shape) {
  AISLE_CHECK(sharding.world == comm.world_size() && sharding.rank == comm.rank(), "reduce_rows_to_owners: ",
              "sharding of rank ", sharding.rank, " of ", sharding.world, " used on rank ", comm.rank(), " of ",
              comm.world_size());
  ops::SparseRows owned = sum_at_owners(comm, mine, row_shape, "reduce_rows_to_owners");
  std::vector<int64_t> local = owned.indices.to(Device::cpu()).to_vector<int64_t>();
  for (int64_t& id : local) {
    AISLE_CHECK(id < sharding.rows, "reduce_rows_to_owners: id ", id, " is outside the table's ", sharding.rows,
                " rows");
    id = sharding.local_row(id);
  }
  owned.indices = host_ids(local, owned.indices.device());
  return owned;
}

Tensor fetch_rows(Communicator& comm, const Tensor& local_table, const RowSharding& sharding,
                  const Tensor& global_ids) {
  AISLE_CHECK(sharding.world == comm.world_size() && sharding.rank == comm.rank(), "fetch_rows: sharding of rank ",
              sharding.rank, " of ", sharding.world, " used on rank ", comm.rank(), " of ", comm.world_size());
  AISLE_CHECK(local_table.defined() && local_table.dim() >= 1 && local_table.size(0) == sharding.local_rows(),
              "fetch_rows: the local table ", local_table.defined() ? local_table.describe() : std::string("undefined"),
              " must have ", sharding.local_rows(), " rows (rank ", sharding.rank, " of ", sharding.world, ", ",
              sharding.rows, " rows)");
  AISLE_CHECK(global_ids.defined() && global_ids.dtype() == DType::i64 && global_ids.dim() == 1,
              "fetch_rows: ids must be 1-D i64, got ", global_ids.defined() ? global_ids.describe() : "undefined");
  const Device device = local_table.device();
  const std::vector<int64_t> ids = global_ids.to(Device::cpu()).to_vector<int64_t>();
  for (size_t i = 0; i < ids.size(); ++i)
    AISLE_CHECK(ids[i] >= 0 && ids[i] < sharding.rows, "fetch_rows: id ", ids[i], " at ", i, " is outside [0, ",
                sharding.rows, ")");
  const ByOwner groups = group_by_owner(ids, sharding.world, "fetch_rows");
  std::vector<int64_t> asked(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) asked[i] = ids[static_cast<size_t>(groups.order[i])];
  const Communicator::Received requests = comm.all_to_all_v(host_ids(asked, device), groups.counts);
  std::vector<int64_t> local = requests.rows.to(Device::cpu()).to_vector<int64_t>();
  for (int64_t& id : local) id = sharding.local_row(id);
  const Tensor answer = ops::gather_rows(local_table, host_ids(local, device));
  const Communicator::Received rows = comm.all_to_all_v(answer, requests.rows_from);
  // rows come back grouped by owner, as asked; put them back in the caller's order.
  std::vector<int64_t> where(ids.size());
  for (size_t k = 0; k < ids.size(); ++k) where[static_cast<size_t>(groups.order[k])] = static_cast<int64_t>(k);
  return ops::gather_rows(rows.rows, host_ids(where, device));
}

Tensor gather_table(Communicator& comm, const Tensor& local_table, const RowSharding& sharding) {
  AISLE_CHECK(sharding.world == comm.world_size() && sharding.rank == comm.rank(), "gather_table: sharding of rank ",
              sharding.rank, " of ", sharding.world, " used on rank ", comm.rank(), " of ", comm.world_size());
  AISLE_CHECK(local_table.defined() && local_table.dim() >= 1 && local_table.size(0) == sharding.local_rows(),
              "gather_table: the local table ", local_table.defined() ? local_table.describe() : std::string("undefined"),
              " must have ", sharding.local_rows(), " rows");
  // all_gather wants equal shares: pad every shard to rank 0's, the largest.
  const int64_t most = sharding.local_rows(0);
  Shape padded_shape = local_table.shape();
  padded_shape[0] = most;
  Tensor padded = Tensor::zeros(padded_shape, local_table.dtype(), local_table.device());
  Tensor head = padded.rows(0, local_table.size(0));
  head.copy_(local_table);
  const Tensor all = comm.all_gather(padded);
  std::vector<int64_t> index(static_cast<size_t>(sharding.rows));
  for (int64_t g = 0; g < sharding.rows; ++g)
    index[static_cast<size_t>(g)] = sharding.owner(g) * most + sharding.local_row(g);
  return ops::gather_rows(all, host_ids(index, local_table.device()));
}

}  // namespace aisle::dist
