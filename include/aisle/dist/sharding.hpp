#pragma once
#include <cstdint>
#include <string>

// How a table's rows are spread over the ranks of a job. One scheme for now, modulo: global row g
// lives on rank g % world at local row g / world, so every rank holds about rows / world rows, hot
// low ids spread evenly, and a table can be re-cut for another world size row by row (resharded
// resume) without reading whole shards.
namespace aisle::dist {

struct RowSharding {
  int64_t rows = 0;   // global rows of the table
  int64_t world = 1;  // ranks it is cut over
  int rank = 0;       // the rank whose local table this describes

  int owner(int64_t global_row) const { return static_cast<int>(global_row % world); }
  int64_t local_row(int64_t global_row) const { return global_row / world; }
  int64_t global_row(int64_t local, int of_rank) const { return local * world + of_rank; }
  // Rows held by `of_rank`: ceil((rows - of_rank) / world), 0 when of_rank >= rows.
  int64_t local_rows(int of_rank) const { return rows > of_rank ? (rows - of_rank + world - 1) / world : 0; }
  int64_t local_rows() const { return local_rows(rank); }
  std::string scheme() const { return "modulo"; }
};

}  // namespace aisle::dist
