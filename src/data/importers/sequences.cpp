// Per-user text formats of the graph and sequential-recommendation papers: LightGCN/NGCF
// (`user item item ...`, no order), S3-Rec (`user item item ...` in time order) and SASRec
// (`user item` per line, in time order). Ids are integers; they are kept as external ids.
#include <vector>

#include "aisle/data/fields.hpp"
#include "src/data/importers/formats.hpp"

namespace aisle::data::detail {

namespace {

// Sequence positions stand in for timestamps (1, 2, ... per user, continuing across the input,
// valid and test files in that order), so "by time" splits and sequence samplers see the order.
struct Positions {
  std::vector<int64_t> next;
  int64_t advance(int64_t user) {
    if (static_cast<size_t>(user) >= next.size()) next.resize(static_cast<size_t>(user) + 1, 0);
    return ++next[static_cast<size_t>(user)];
  }
};

void import_user_lines(ImportContext& ctx, bool ordered) {
  const Dialect dialect = dialect_for(ctx.options, "whitespace", false);
  Positions positions;
  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect, {"user", "item"}, TableReader::kVariable);
    int64_t user = 0, item = 0;
    while (t.next()) {
      // A line of k items is k rows (a line with a user and no items is none).
      const int64_t items = static_cast<int64_t>(t.size()) - 1;
      ctx.report.rows_read += items - 1;
      if (const char* why = parse_int64(t[0], user)) {
        t.reject(0, why, items);
        continue;
      }
      if (items == 0) continue;  // a user without interactions is no entity
      const int64_t u = ctx.user(user);
      for (int c = 1; c <= items; ++c) {
        if (!t.integer(c, item)) continue;
        const int64_t time = ordered ? positions.advance(u) : 0;
        ctx.add(u, ctx.item(item), 1.0f, time, Event::unknown, f.part);
      }
    }
  }
}

}  // namespace

void import_lightgcn(ImportContext& ctx) {
  ctx.report.notes.push_back(
      "LightGCN: each line `user item item ...` gives one Event::unknown row per item (value 1, no "
      "timestamp); a line of k items counts as k rows; --valid/--test files give Part::valid/test rows");
  import_user_lines(ctx, false);
}

void import_s3rec(ImportContext& ctx) {
  ctx.report.notes.push_back(
      "S3-Rec: each line `user item item ...` in time order gives one Event::unknown row per item, "
      "timestamp = the item's 1-based position in the user's sequence (continued across files)");
  import_user_lines(ctx, true);
}

void import_sasrec(ImportContext& ctx) {
  ctx.report.notes.push_back(
      "SASRec: each line `user item`, in time order per user, is an Event::unknown row with timestamp = "
      "its 1-based position in the user's sequence (continued across files)");
  const Dialect dialect = dialect_for(ctx.options, "whitespace", false);
  Positions positions;
  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect, {"user", "item"}, 2);
    int64_t user = 0, item = 0;
    while (t.next()) {
      if (!t.integer(0, user) || !t.integer(1, item)) continue;
      const int64_t u = ctx.user(user);
      ctx.add(u, ctx.item(item), 1.0f, positions.advance(u), Event::unknown, f.part);
    }
  }
}

}  // namespace aisle::data::detail
