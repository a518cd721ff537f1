// Sparse x dense family: CSR construction and validation. The products are the shared segmented
// gathers (src/ops/segment_gather.hpp, CUDA twin cuda/segment_gather.cu).
#include "aisle/ops/spmm.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "aisle/ops/scatter.hpp"
#include "cuda/csr_structure.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/segment_gather.hpp"

namespace aisle::ops {

namespace {

std::vector<int64_t> host_i64(const Tensor& t) { return t.to(DType::i64).to(Device::cpu()).to_vector<int64_t>(); }

Tensor device_i64(const std::vector<int64_t>& v, Device device) { return Tensor::from_vector(v).to(device); }

void check_extent(const char* op, int64_t rows, int64_t cols) {
  AISLE_CHECK(rows >= 0 && cols >= 0, op, ": rows and cols must be non-negative, got [", rows, ", ", cols, "]");
}

// What make_csr and csr_from_coo ask of their inputs before reading them: the extent, the two
// index arrays that place the entries (row pointers or row ids, then column ids) and the float
// values, all 1-D on one device.
void check_input_arrays(const char* op, int64_t rows, int64_t cols, const char* row_name, const Tensor& row,
                        const char* col_name, const Tensor& col, const Tensor& values) {
  check_extent(op, rows, cols);
  detail::check_index(op, row_name, row);
  detail::check_dim(op, row_name, row, 1);
  detail::check_index(op, col_name, col);
  detail::check_dim(op, col_name, col, 1);
  detail::check_float(op, "values", values);
  detail::check_dim(op, "values", values, 1);
  detail::check_same_device(op, row_name, row, "values", values);
  detail::check_same_device(op, col_name, col, "values", values);
}

// The full structural invariant of a CSR matrix, on host copies of row_ptr (rows + 1 entries) and
// col_idx. Errors name the first offending entry.
void check_structure(const char* op, const std::vector<int64_t>& rp, const std::vector<int64_t>& col,
                     int64_t rows, int64_t cols) {
  const int64_t nnz = static_cast<int64_t>(col.size());
  AISLE_CHECK(rp[0] == 0, op, ": row_ptr[0] must be 0, got ", rp[0]);
  for (int64_t r = 0; r < rows; ++r)
    AISLE_CHECK(rp[static_cast<size_t>(r)] <= rp[static_cast<size_t>(r + 1)], op,
                ": row_ptr must be non-decreasing, but row_ptr[", r, "] = ", rp[static_cast<size_t>(r)],
                " > row_ptr[", r + 1, "] = ", rp[static_cast<size_t>(r + 1)]);
  AISLE_CHECK(rp[static_cast<size_t>(rows)] == nnz, op, ": row_ptr[", rows, "] = ", rp[static_cast<size_t>(rows)],
              " must equal nnz = ", nnz, " (the number of col_idx and values entries)");
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = rp[static_cast<size_t>(r)]; j < rp[static_cast<size_t>(r + 1)]; ++j) {
      const int64_t c = col[static_cast<size_t>(j)];
      AISLE_CHECK(c >= 0 && c < cols, op, ": column id ", c, " of entry ", j, " (row ", r,
                  ") is out of range [0, ", cols, ")");
    }
}

// What every product needs of a Csr: consistent sizes, dtypes and one device.
void check_csr(const char* op, const Csr& a) {
  check_extent(op, a.rows, a.cols);
  detail::check_defined(op, "a.row_ptr", a.row_ptr);
  AISLE_CHECK(a.row_ptr.dtype() == DType::i64 && a.row_ptr.dim() == 1 && a.row_ptr.numel() == a.rows + 1,
              op, ": a.row_ptr must be i64 with rows + 1 = ", a.rows + 1, " entries, got ",
              a.row_ptr.describe(), " (build the matrix with make_csr)");
  detail::check_index(op, "a.col_idx", a.col_idx);
  detail::check_dim(op, "a.col_idx", a.col_idx, 1);
  detail::check_float(op, "a.values", a.values);
  detail::check_dim(op, "a.values", a.values, 1);
  AISLE_CHECK(a.col_idx.numel() == a.values.numel(), op, ": a.col_idx ", a.col_idx.describe(),
              " and a.values ", a.values.describe(), " must have one entry per non-zero");
  detail::check_same_device(op, "a.row_ptr", a.row_ptr, "a.values", a.values);
  detail::check_same_device(op, "a.col_idx", a.col_idx, "a.values", a.values);
}

void check_dense(const char* op, const char* name, const Tensor& t, int64_t rows, const Csr& a,
                 const char* rows_name) {
  detail::check_float(op, name, t);
  AISLE_CHECK(t.dim() == 2 && t.size(0) == rows, op, ": ", name, " ", t.describe(), " must be [",
              rows_name, " = ", rows, ", d] for ", a.describe());
  detail::check_same_dtype(op, "a.values", a.values, name, t);
  detail::check_same_device(op, "a.values", a.values, name, t);
}

// csr_transpose's structure on the host (t.values left to the caller).
CsrTranspose transpose_on_host(const char* op, const Csr& a) {
  const std::vector<int64_t> rp = host_i64(a.row_ptr), col = host_i64(a.col_idx);
  check_structure(op, rp, col, a.rows, a.cols);
  // Counting sort of the entries by column; walking rows in order leaves each transposed row
  // sorted by its column (the original row).
  std::vector<int64_t> t_ptr(static_cast<size_t>(a.cols) + 1, 0);
  for (int64_t c : col) ++t_ptr[static_cast<size_t>(c) + 1];
  for (int64_t c = 0; c < a.cols; ++c) t_ptr[static_cast<size_t>(c + 1)] += t_ptr[static_cast<size_t>(c)];
  std::vector<int64_t> next(t_ptr.begin(), t_ptr.end() - 1), t_col(col.size()), source(col.size());
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t j = rp[static_cast<size_t>(r)]; j < rp[static_cast<size_t>(r + 1)]; ++j) {
      const size_t k = static_cast<size_t>(next[static_cast<size_t>(col[static_cast<size_t>(j)])]++);
      t_col[k] = r;
      source[k] = j;
    }
  const bool narrow = a.col_idx.dtype() == DType::i32 && a.rows <= std::numeric_limits<int32_t>::max();
  CsrTranspose out;
  out.source_position = Tensor::from_vector(source);
  out.t.row_ptr = Tensor::from_vector(t_ptr);
  out.t.col_idx = Tensor::from_vector(t_col).to(narrow ? DType::i32 : DType::i64);
  out.t.rows = a.cols;
  out.t.cols = a.rows;
  return out;
}

// The first id of rows[0, n) outside [0, bound) throws, naming its position.
void check_row_ids(const char* op, const int64_t* rows, int64_t n, int64_t bound) {
  for (int64_t i = 0; i < n; ++i)
    AISLE_CHECK(rows[i] >= 0 && rows[i] < bound, op, ": row id ", rows[i], " at position ", i,
                " is out of range [0, ", bound, ")");
}

}  // namespace

std::string Csr::describe() const {
  return detail::concat("csr [", rows, ", ", cols, "] nnz ", nnz(), " ", dtype_name(dtype()), " ", device().str());
}

Csr make_csr(Tensor row_ptr, Tensor col_idx, Tensor values, int64_t rows, int64_t cols) {
  const char* op = "make_csr";
  check_input_arrays(op, rows, cols, "row_ptr", row_ptr, "col_idx", col_idx, values);
  AISLE_CHECK(row_ptr.numel() == rows + 1, op, ": row_ptr ", row_ptr.describe(), " must have rows + 1 = ",
              rows + 1, " entries");
  AISLE_CHECK(col_idx.numel() == values.numel(), op, ": col_idx ", col_idx.describe(), " and values ",
              values.describe(), " must have one entry per non-zero");
  check_structure(op, host_i64(row_ptr), host_i64(col_idx), rows, cols);
  return Csr{row_ptr.to(DType::i64), std::move(col_idx), std::move(values), rows, cols};
}

Csr csr_from_coo(const Tensor& row, const Tensor& col, const Tensor& values, int64_t rows, int64_t cols) {
  const char* op = "csr_from_coo";
  check_input_arrays(op, rows, cols, "row", row, "col", col, values);
  AISLE_CHECK(row.numel() == values.numel() && col.numel() == values.numel(), op, ": row ", row.describe(),
              ", col ", col.describe(), " and values ", values.describe(), " must have one entry each per non-zero");
  const int64_t n = values.numel();
  const std::vector<int64_t> r = host_i64(row), c = host_i64(col);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ri = r[static_cast<size_t>(i)], ci = c[static_cast<size_t>(i)];
    AISLE_CHECK(ri >= 0 && ri < rows, op, ": row id ", ri, " at position ", i, " is out of range [0, ", rows, ")");
    AISLE_CHECK(ci >= 0 && ci < cols, op, ": column id ", ci, " at position ", i, " is out of range [0, ", cols, ")");
  }
  // Counting sort by row (stable), then each row by column with ties in order of appearance, so
  // duplicates are adjacent and summed in input order.
  std::vector<int64_t> start(static_cast<size_t>(rows) + 1, 0);
  for (int64_t ri : r) ++start[static_cast<size_t>(ri) + 1];
  for (int64_t i = 0; i < rows; ++i) start[static_cast<size_t>(i + 1)] += start[static_cast<size_t>(i)];
  std::vector<int64_t> order(static_cast<size_t>(n));
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(next[static_cast<size_t>(r[static_cast<size_t>(i)])]++)] = i;
  }
  cpu::parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t ri = r0; ri < r1; ++ri)
      std::sort(order.begin() + start[static_cast<size_t>(ri)], order.begin() + start[static_cast<size_t>(ri + 1)],
                [&](int64_t a, int64_t b) {
                  const int64_t ca = c[static_cast<size_t>(a)], cb = c[static_cast<size_t>(b)];
                  return ca != cb ? ca < cb : a < b;
                });
  });
  std::vector<int64_t> out_ptr(static_cast<size_t>(rows) + 1, 0), out_col;
  out_col.reserve(static_cast<size_t>(n));
  Csr out;
  detail::dispatch_float(values.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T> v = values.to(Device::cpu()).to_vector<T>();
    std::vector<T> out_val;
    out_val.reserve(static_cast<size_t>(n));
    for (int64_t ri = 0; ri < rows; ++ri) {
      for (int64_t k = start[static_cast<size_t>(ri)]; k < start[static_cast<size_t>(ri + 1)]; ++k) {
        const int64_t i = order[static_cast<size_t>(k)];
        if (k > start[static_cast<size_t>(ri)] && c[static_cast<size_t>(i)] == out_col.back()) {
          out_val.back() += v[static_cast<size_t>(i)];
        } else {
          out_col.push_back(c[static_cast<size_t>(i)]);
          out_val.push_back(v[static_cast<size_t>(i)]);
        }
      }
      out_ptr[static_cast<size_t>(ri + 1)] = static_cast<int64_t>(out_col.size());
    }
    out.values = Tensor::from_vector(out_val).to(values.device());
  });
  out.row_ptr = device_i64(out_ptr, values.device());
  out.col_idx = Tensor::from_vector(out_col).to(col.dtype()).to(values.device());
  out.rows = rows;
  out.cols = cols;
  return out;
}

CsrTranspose csr_transpose(const Csr& a) {
  const char* op = "csr_transpose";
  check_csr(op, a);
  CsrTranspose out;
  if (a.device().is_cuda()) {
    AISLE_CUDA_ONLY(op, {
      if (!cuda::csr_structure_ok(a)) {
        check_structure(op, host_i64(a.row_ptr), host_i64(a.col_idx), a.rows, a.cols);  // names the entry
        AISLE_FAIL(op, ": the device found a structural error in ", a.describe(), " that the host check did not");
      }
      out = cuda::csr_transpose(a);
    });
  } else {
    out = transpose_on_host(op, a);
  }
  out.t.values = gather_rows(a.values, out.source_position);
  return out;
}

Csr csr_select_rows(const Csr& a, const Tensor& rows) {
  const char* op = "csr_select_rows";
  check_csr(op, a);
  AISLE_CHECK(rows.defined() && rows.dtype() == DType::i64 && rows.dim() == 1, op,
              ": rows must be 1-D i64, got ", rows.defined() ? rows.describe() : "an undefined tensor");
  if (a.device().is_cuda()) {
    const Tensor picked = rows.to(a.device());
    std::optional<Csr> out;
    AISLE_CUDA_ONLY(op, out = cuda::csr_select_rows(a, picked));
    if (!out) {
      const Tensor host = picked.to(Device::cpu());
      check_row_ids(op, host.data<int64_t>(), host.numel(), a.rows);  // names the first bad id
      AISLE_FAIL(op, ": the device found a row id out of range [0, ", a.rows, ") that the host check did not");
    }
    return *out;
  }
  const Tensor picked = rows.to(Device::cpu());
  const int64_t n = picked.numel();
  const int64_t* rp = a.row_ptr.data<int64_t>();
  const int64_t* pr = picked.data<int64_t>();
  check_row_ids(op, pr, n, a.rows);
  std::vector<int64_t> out_ptr(static_cast<size_t>(n) + 1, 0);
  for (int64_t i = 0; i < n; ++i) out_ptr[static_cast<size_t>(i + 1)] = out_ptr[static_cast<size_t>(i)] + rp[pr[i] + 1] - rp[pr[i]];
  const int64_t nnz = out_ptr.back();
  Csr out{Tensor::from_vector(out_ptr), Tensor::empty({nnz}, a.col_idx.dtype()), Tensor::empty({nnz}, a.values.dtype()),
          n, a.cols};
  // Byte copies of each row's run of column ids and values, whatever their dtypes.
  const size_t col_size = dtype_size(a.col_idx.dtype()), val_size = dtype_size(a.values.dtype());
  const char* src_col = static_cast<const char*>(a.col_idx.raw_data());
  const char* src_val = static_cast<const char*>(a.values.raw_data());
  char* dst_col = static_cast<char*>(out.col_idx.raw_data());
  char* dst_val = static_cast<char*>(out.values.raw_data());
  cpu::parallel_for(n, 256, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t from = rp[pr[i]], count = rp[pr[i] + 1] - from;
      const int64_t to = out_ptr[static_cast<size_t>(i)];
      std::memcpy(dst_col + to * col_size, src_col + from * col_size, static_cast<size_t>(count) * col_size);
      std::memcpy(dst_val + to * val_size, src_val + from * val_size, static_cast<size_t>(count) * val_size);
    }
  });
  return out;
}

namespace {

// spmm and spmm_fused: one checked product, errors naming the public op.
Tensor checked_product(const char* op, const Csr& a, const Tensor& x, const SpmmEpilogue& epilogue) {
  check_csr(op, a);
  check_dense(op, "x", x, a.cols, a, "cols");
  const auto check_epilogue = [&](const char* name, const Tensor& t) {
    if (!t.defined()) return;
    check_dense(op, name, t, a.rows, a, "rows");
    AISLE_CHECK(t.size(1) == x.size(1), op, ": ", name, " ", t.describe(), " and x ", x.describe(),
                " have different widths");
  };
  check_epilogue("addend", epilogue.addend);
  check_epilogue("total", epilogue.total);
  AISLE_CHECK(!epilogue.total.defined() || !epilogue.total.shares_storage(x), op,
              ": total must not share storage with x (it is updated while x is read)");
  Tensor out = Tensor::empty({a.rows, x.size(1)}, x.dtype(), x.device());
  if (out.numel() == 0) return out;  // reads no column, so skips even the host's id check
  detail::segment_gather_sum(op, {a.row_ptr, a.col_idx, a.values}, x, /*mean=*/false, out,
                             {epilogue.addend, epilogue.total, epilogue.total_scale});
  return out;
}

}  // namespace

Tensor spmm(const Csr& a, const Tensor& x) { return checked_product("spmm", a, x, {}); }

Tensor spmm_fused(const Csr& a, const Tensor& x, const SpmmEpilogue& epilogue) {
  return checked_product("spmm_fused", a, x, epilogue);
}

Tensor spmm_values_backward(const Csr& a, const Tensor& x, const Tensor& dy) {
  const char* op = "spmm_values_backward";
  check_csr(op, a);
  check_dense(op, "x", x, a.cols, a, "cols");
  check_dense(op, "dy", dy, a.rows, a, "rows");
  AISLE_CHECK(dy.size(1) == x.size(1), op, ": dy ", dy.describe(), " and x ", x.describe(),
              " have different widths");
  Tensor dv = Tensor::empty({a.nnz()}, x.dtype(), x.device());
  detail::segment_gather_dot(op, {a.row_ptr, a.col_idx, Tensor()}, x, dy, dv);
  return dv;
}

}  // namespace aisle::ops
