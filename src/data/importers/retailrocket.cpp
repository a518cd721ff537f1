// RetailRocket-style e-commerce event logs: timestamp (ms), visitorid, event
// (view/addtocart/transaction), itemid, transactionid (empty unless a transaction).
#include "aisle/data/fields.hpp"
#include "src/data/importers/formats.hpp"

namespace aisle::data::detail {

void import_retailrocket(ImportContext& ctx) {
  ctx.report.notes.push_back(
      "RetailRocket: view -> Event::view, addtocart -> Event::cart, transaction -> Event::purchase (value 1); "
      "timestamp = the millisecond timestamp rounded down to seconds; any other event name is an error");
  ctx.report.notes.push_back("tables/lines: transaction (transactionid per row, -1 when empty), in row order");
  const Dialect dialect = dialect_for(ctx.options, ",", true);
  DatasetWriter::Column& transactions = ctx.writer.table_column("lines", "transaction", DType::i64);
  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect, {"timestamp", "visitorid", "event", "itemid", "transactionid"}, 5);
    auto col = [&](const char* name, int position) { return t.has_header() ? t.column(name, true) : position; };
    const int ct = col("timestamp", 0), cu = col("visitorid", 1), ce = col("event", 2), ci = col("itemid", 3),
              cx = col("transactionid", 4);
    int64_t ms = 0, user = 0, item = 0, transaction = -1;
    while (t.next()) {
      if (!t.integer(ct, ms) || !t.integer(cu, user) || !t.integer(ci, item)) continue;
      const std::optional<Event> event = parse_event(t[ce]);
      if (!event || *event == Event::rating || *event == Event::unknown) {
        t.reject(ce, "is not an event (view, addtocart or transaction)");
        continue;
      }
      transaction = -1;
      if (t[cx].find_first_not_of(" \t") != std::string_view::npos && !t.integer(cx, transaction)) continue;
      // Floor division, so that times before 1970 still round down.
      const int64_t seconds = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
      ctx.add(ctx.user(user), ctx.item(item), 1.0f, seconds, *event, f.part);
      transactions.push<int64_t>(transaction);
    }
  }
}

}  // namespace aisle::data::detail
