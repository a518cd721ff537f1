// UCI Online Retail (dataset 352): one row per invoice line. The rules below are the documented
// behaviour (README, meta.json notes); a row is counted under the first rule it breaks.
#include <cmath>
#include <vector>

#include "aisle/data/fields.hpp"
#include "src/data/importers/formats.hpp"

namespace aisle::data::detail {

namespace {

const char* const kRules[] = {
    "cancelled invoice: InvoiceNo starts with 'C' (a cancellation or return, negative quantity); dropped",
    "missing customer: empty CustomerID (nobody to recommend to); dropped",
    "non-positive quantity: Quantity <= 0 on an ordinary invoice (stock corrections, damages); dropped",
    "non-positive price: UnitPrice <= 0 (free items, bad-debt adjustments); dropped",
    "kept rows: Event::purchase, user = CustomerID, item = StockCode, value = Quantity, timestamp = InvoiceDate "
    "(naive local time read as UTC seconds)",
    "tables/lines: per kept row, in row order: invoice (InvoiceNo as an integer), price (UnitPrice) and revenue "
    "(Quantity x UnitPrice)",
    "item features: price (UnitPrice on the item's last kept row), description (lower-cased words of its first "
    "non-empty Description); user feature: country (Country on the customer's last kept row)",
};

// "536365" -> 536365; a letter prefix ("A563185", bad-debt adjustments) is dropped; -1 if none.
int64_t invoice_number(std::string_view invoice) {
  if (!invoice.empty() && (invoice[0] < '0' || invoice[0] > '9')) invoice.remove_prefix(1);
  int64_t n = -1;
  return parse_int64(invoice, n) ? -1 : n;
}

}  // namespace

void import_online_retail(ImportContext& ctx) {
  for (const char* rule : kRules) ctx.report.notes.emplace_back(rule);
  const Dialect dialect = dialect_for(ctx.options, ",", true);
  DatasetWriter::Column& invoice_col = ctx.writer.table_column("lines", "invoice", DType::i64);
  DatasetWriter::Column& price_col = ctx.writer.table_column("lines", "price", DType::f32);
  DatasetWriter::Column& revenue_col = ctx.writer.table_column("lines", "revenue", DType::f32);
  FirstItemText description("description");

  for (const InputFile& f : ctx.files) {
    TableReader t(ctx, f.path, dialect,
                  {"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
                   "Country"},
                  8);
    auto col = [&](const char* name, int position) { return t.has_header() ? t.column(name, true) : position; };
    const int c_invoice = col("InvoiceNo", 0), c_stock = col("StockCode", 1), c_desc = col("Description", 2),
              c_qty = col("Quantity", 3), c_date = col("InvoiceDate", 4), c_price = col("UnitPrice", 5),
              c_customer = col("CustomerID", 6), c_country = col("Country", 7);
    int64_t quantity = 0, time = 0;
    double price = 0, customer_number = 0;
    std::string_view invoice, stock;
    while (t.next()) {
      if (!t.text(c_invoice, invoice) || !t.text(c_stock, stock) || !t.integer(c_qty, quantity) ||
          !t.time(c_date, time) || !t.number(c_price, price))
        continue;
      std::string_view customer = t[c_customer];
      while (!customer.empty() && customer.back() == ' ') customer.remove_suffix(1);
      // CustomerIDs are numbers; spreadsheet exports write them as "17850.0".
      if (!customer.empty() && !t.number(c_customer, customer_number)) continue;
      if (!customer.empty() &&
          (customer_number != std::floor(customer_number) || customer_number < 0 || customer_number > 9e18)) {
        t.reject(c_customer, "is not a customer number");
        continue;
      }
      if (invoice[0] == 'C' || invoice[0] == 'c') {
        ctx.drop("cancelled invoice", t.where() + "InvoiceNo " + std::string(invoice));
      } else if (customer.empty()) {
        ctx.drop("missing customer", t.where() + "InvoiceNo " + std::string(invoice) + ", StockCode " + std::string(stock));
      } else if (quantity <= 0) {
        ctx.drop("non-positive quantity", t.where() + "Quantity " + std::to_string(quantity));
      } else if (price <= 0) {
        ctx.drop("non-positive price", t.where() + "UnitPrice " + std::string(t[c_price]));
      } else {
        const int64_t user = ctx.user(static_cast<int64_t>(customer_number));
        const int64_t item = ctx.item(stock);
        ctx.add(user, item, static_cast<float>(quantity), time, Event::purchase, f.part);
        invoice_col.push<int64_t>(invoice_number(invoice));
        price_col.push<float>(static_cast<float>(price));
        revenue_col.push<float>(static_cast<float>(static_cast<double>(quantity) * price));
        ctx.writer.item_numeric("price", item, price);
        if (!t[c_country].empty()) ctx.writer.user_categorical("country", user, t[c_country]);
        description.offer(ctx.writer, item, t[c_desc]);
      }
    }
  }
}

}  // namespace aisle::data::detail
