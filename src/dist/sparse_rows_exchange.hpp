#pragma once
#include "aisle/dist/communicator.hpp"
#include "aisle/dist/sharding.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/tensor.hpp"

// Moving embedding rows between ranks: the collectives a model with sparse row gradients needs on
// several ranks. Every function is a collective (all ranks call it, in the same order, even with
// nothing to send) and deterministic: where rows of one id meet, they are summed in rank order.
// Ids are i64 and bookkept on the host; rows travel on their own device (the communicator's
// backend must accept tensors there), and ids travel with them.
namespace aisle::dist {

// Gradient rows of a REPLICATED table: `mine` holds this rank's coalesced rows (ascending unique
// ids; [0] ids with rows [0, ...row_shape] when it has none). Returns on every rank the coalesced
// union with each id's rows summed in rank order. Two all_to_all_v rounds: rows go to the rank
// owning id % world, which sums them, and every owner's sums go to every rank.
ops::SparseRows all_reduce_rows(Communicator& comm, const ops::SparseRows& mine, const Shape& row_shape);

// Gradient rows of a ROW-SHARDED table, by global id (coalesced as above), go to their owners.
// Returns this rank's rows: LOCAL ids (sharding.local_row), ascending and unique, each summed over
// ranks in rank order; ready for an optimizer over the local table.
ops::SparseRows reduce_rows_to_owners(Communicator& comm, const ops::SparseRows& mine, const RowSharding& sharding,
                                      const Shape& row_shape);

// out[i] = the table's row global_ids[i], fetched from its owner. `local_table` is this rank's
// shard [sharding.local_rows(), ...]; `global_ids` i64 [n] (any order, repeats allowed, n may be 0
// and differ between ranks). The result is on the table's device.
Tensor fetch_rows(Communicator& comm, const Tensor& local_table, const RowSharding& sharding,
                  const Tensor& global_ids);

// The whole [sharding.rows, ...] table on every rank, from every rank's shard.
Tensor gather_table(Communicator& comm, const Tensor& local_table, const RowSharding& sharding);

}  // namespace aisle::dist
