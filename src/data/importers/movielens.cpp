// MovieLens ratings: u.data (100K, tab), ratings.dat (1M/10M, "::"), ratings.csv (20M/25M, with
// a header userId,movieId,rating,timestamp).
#include "src/data/importers/formats.hpp"

namespace aisle::data::detail {

void import_movielens(ImportContext& ctx, std::string_view variant) {
  const bool csv = variant == "movielens-20m" || variant == "movielens-25m";
  Dialect dialect = dialect_for(ctx.options, variant == "movielens-100k" ? "\t" : csv ? "," : "::", csv);
  dialect.quotes = csv;  // the older files never quote; titles elsewhere hold stray quotes
  ctx.report.notes.push_back(
      "MovieLens: each row is Event::rating with value = the rating (0.5 to 5 stars; a rating outside "
      "that range is an error), timestamp = Unix seconds; user and movie ids are integers");
  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect, {"user", "item", "rating", "timestamp"}, 4);
    auto col = [&](const char* name, int position) { return t.has_header() ? t.column(name, true) : position; };
    const int cu = col("userId", 0), ci = col("movieId", 1), cr = col("rating", 2), ct = col("timestamp", 3);
    int64_t user = 0, item = 0, time = 0;
    float rating = 0;
    while (t.next()) {
      if (!t.integer(cu, user) || !t.integer(ci, item) || !t.value(cr, rating) || !t.time(ct, time)) continue;
      if (!(rating >= 0.5f && rating <= 5.0f)) {
        t.reject(cr, "is outside the rating scale [0.5, 5]");
        continue;
      }
      ctx.add(ctx.user(user), ctx.item(item), rating, time, Event::rating, f.part);
    }
  }
}

}  // namespace aisle::data::detail
