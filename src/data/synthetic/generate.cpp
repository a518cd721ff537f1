// generate_synthetic: users are generated block by block in parallel, each from their own Philox
// stream into rows whose positions the row shares fix in advance, so the bytes never depend on
// the thread count. A writer thread writes block k in order while block k+1 is generated: memory
// stays at two blocks, and checksumming and disk writes overlap the generation.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <future>

#include "aisle/data/dataset_writer.hpp"
#include "aisle/data/synthetic.hpp"
#include "src/core/parallel.hpp"
#include "src/data/synthetic/block.hpp"
#include "src/data/synthetic/model.hpp"

namespace aisle::data {

namespace {

using namespace synth;

constexpr int64_t kBlockRows = int64_t{1} << 20;  // ~22 MB of buffered rows per block
constexpr int64_t kBlockUsers = int64_t{1} << 16;

// Sets the OpenMP thread count for the generator's loops and restores it afterwards.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

void write_item_features(DatasetWriter& w, const Catalogue& c) {
  char category[32], department[32], brand[32];
  for (int32_t i = 0; i < c.items; ++i) {
    const auto k = static_cast<size_t>(i);
    std::snprintf(category, sizeof category, "cat-%03d", c.category[k]);
    std::snprintf(department, sizeof department, "dept-%02d", c.department_of(c.category[k]));
    std::snprintf(brand, sizeof brand, "brand-%03d", c.brand[k]);
    w.item_categorical("category", i, category);
    w.item_categorical("department", i, department);
    w.item_categorical("brand", i, brand);
    w.item_numeric("price", i, c.price_cents[k] / 100.0);
    w.item_numeric("launch_day", i, c.product[k].launch);
  }
}

// Row offsets [users + 1]: every user's share of the interactions, by activity. Needs every
// user's tastes first (cheap: no sessions), O(users) memory.
std::vector<int64_t> row_offsets(const Model& model) {
  std::vector<double> activity(static_cast<size_t>(model.options.users));
  cpu::parallel_for(model.options.users, 4096, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) activity[static_cast<size_t>(u)] = model.user(u).activity;
  });
  return share_rows(activity, model.options.interactions);
}

// The end of the block starting at user `begin`: at most kBlockUsers users and kBlockRows rows,
// but at least one user (a very heavy user makes a block of their own).
int64_t block_end(const std::vector<int64_t>& offsets, int64_t begin) {
  const auto users = static_cast<int64_t>(offsets.size()) - 1;
  int64_t end = begin + 1;
  while (end < users && end - begin < kBlockUsers &&
         offsets[static_cast<size_t>(end) + 1] - offsets[static_cast<size_t>(begin)] <= kBlockRows)
    ++end;
  return end;
}

void generate_block(const Model& model, const std::vector<int64_t>& offsets, Block& block) {
  cpu::parallel_for(block.end_user - block.first_user, 16, [&](int64_t b, int64_t e) {
    SessionScratch scratch;
    for (int64_t k = b; k < e; ++k) {
      const int64_t u = block.first_user + k;
      Stream rng = model.user_stream(u);
      const UserModel user = draw_user(model.catalogue, model.options.days, rng);
      const int64_t first = offsets[static_cast<size_t>(u)], budget = offsets[static_cast<size_t>(u) + 1] - first;
      block.sessions[static_cast<size_t>(k)] =
          generate_user(model.catalogue, model.calendar, user, rng, budget, block.span(first), scratch);
      block.segment[static_cast<size_t>(k)] = user.segment();
      block.region[static_cast<size_t>(k)] = user.region;
    }
  });
}

std::vector<std::string> parameters(const SynthOptions& o) {
  return {"generator=aisle-synth-1",
          "users=" + std::to_string(o.users),
          "items=" + std::to_string(o.items),
          "interactions=" + std::to_string(o.interactions),
          "seed=" + std::to_string(o.seed),
          "categories=" + std::to_string(o.categories),
          "brands=" + std::to_string(o.brands),
          "days=" + std::to_string(o.days),
          "start_date=" + o.start_date,
          "zipf=" + std::to_string(o.zipf)};
}

}  // namespace

SynthResult generate_synthetic(const SynthOptions& o, const std::string& out_dir) {
  const auto started = std::chrono::steady_clock::now();
  const Model model(o);
  const ThreadCount threads(o.threads);
  const std::vector<int64_t> offsets = row_offsets(model);

  DatasetWriter writer(out_dir, o.overwrite);
  writer.use_dense_ids(o.users, o.items);
  write_item_features(writer, model.catalogue);
  BlockSink sink(writer, offsets, o.items, o.days, model.calendar.start_epoch_seconds());
  Block blocks[2];
  std::future<void> writing;  // writes the previous block; its destructor waits, even on a throw
  for (int64_t begin = 0, k = 0; begin < o.users; ++k) {
    Block& block = blocks[k % 2];
    const int64_t end = block_end(offsets, begin);
    block.prepare(begin, end, offsets[static_cast<size_t>(begin)],
                  offsets[static_cast<size_t>(end)] - offsets[static_cast<size_t>(begin)]);
    generate_block(model, offsets, block);
    if (writing.valid()) writing.get();  // the other buffer is free again (and errors surface)
    writing = std::async(std::launch::async, [&sink, &block] { sink.write(block); });
    begin = end;
  }
  if (writing.valid()) writing.get();

  SynthResult result;
  sink.finish(model.catalogue, result);
  ImportReport report;
  report.rows_read = report.rows_kept = o.interactions;
  report.notes = {
      "synthetic e-commerce shop (aisle data synth); the model is described in aisle/data/synthetic.hpp",
      "rows are grouped by user, sessions in order of start; tables/sessions gives each session's rows",
      "value is the quantity for purchases and 1 for views and carts",
      "tables/daily_sales: units and revenue per (item, day) with sales; day counts from start_date",
  };
  writer.finish({"synthetic", {}, parameters(o)}, report);

  result.dir = out_dir;
  result.users = o.users;
  result.items = o.items;
  result.days = o.days;
  result.interactions = o.interactions;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace aisle::data
