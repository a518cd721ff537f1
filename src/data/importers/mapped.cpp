// `--format delimited`: any delimited file, its columns given by --map role=COL.
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/data/fields.hpp"
#include "src/data/importers/formats.hpp"

namespace aisle::data::detail {

namespace {
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

void import_mapped(ImportContext& ctx) {
  const auto& map = ctx.options.columns;
  AISLE_CHECK(map.count("user") && map.count("item"), "--format delimited needs --map user=COL,item=COL[,...]");
  AISLE_CHECK(!(map.count("rating") && map.count("weight")), "--map: give rating or weight, not both");
  ctx.report.notes.push_back(
      "delimited: user and item ids are the mapped columns' text; value = rating (Event::rating) or weight (else 1); "
      "event names view/addtocart/transaction/...; timestamp as Unix seconds or a date; item features category and "
      "brand (categorical), price (numeric) take the item's last row, text (lower-cased words) its first non-empty row");
  const Dialect dialect = dialect_for(ctx.options, ",", true);
  FirstItemText item_text("text");

  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect, {}, 0);
    auto col = [&](const char* role) {
      const auto it = map.find(role);
      if (it == map.end()) return -1;
      const int c = t.column(it->second, true);
      if (!t.has_header()) t.name(c, role);
      return c;
    };
    const int cu = col("user"), ci = col("item"), cv = map.count("rating") ? col("rating") : col("weight"),
              ct = col("timestamp"), ce = col("event"), ccat = col("category"), cbrand = col("brand"),
              cprice = col("price"), ctext = col("text");
    const Event plain = map.count("rating") ? Event::rating : Event::unknown;
    std::string_view user, item;
    float value = 1;
    int64_t time = 0;
    double price = 0;
    while (t.next()) {
      if (!t.text(cu, user) || !t.text(ci, item)) continue;
      if (cv >= 0 && !t.value(cv, value)) continue;
      if (ct >= 0 && !t.time(ct, time)) continue;
      Event event = plain;
      if (ce >= 0) {
        const std::optional<Event> e = parse_event(trimmed(t[ce]));
        if (!e) {
          t.reject(ce, "is not an event (view, addtocart/cart, transaction/purchase, rating, unknown)");
          continue;
        }
        event = *e;
      }
      const bool has_price = cprice >= 0 && !trimmed(t[cprice]).empty();
      if (has_price && !t.number(cprice, price)) continue;

      const int64_t u = ctx.user(user), i = ctx.item(item);
      ctx.add(u, i, value, time, event, f.part);
      for (const auto& [c, feature] : {std::pair{ccat, "category"}, std::pair{cbrand, "brand"}})
        if (c >= 0 && !trimmed(t[c]).empty()) ctx.writer.item_categorical(feature, i, trimmed(t[c]));
      if (has_price) ctx.writer.item_numeric("price", i, price);
      if (ctext >= 0) item_text.offer(ctx.writer, i, t[ctext]);
    }
  }
}

}  // namespace aisle::data::detail
