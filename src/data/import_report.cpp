#include "aisle/data/import_report.hpp"

#include <sstream>

namespace aisle::data {

void ImportReport::drop(const std::string& reason, const std::string& example) {
  Reason& r = dropped[reason];
  ++r.count;
  if (r.examples.size() < kExamplesPerReason) r.examples.push_back(example);
}

int64_t ImportReport::rows_dropped() const {
  int64_t n = 0;
  for (const auto& [reason, r] : dropped) n += r.count;
  return n;
}

std::string ImportReport::summary() const {
  std::ostringstream os;
  os << rows_read << " rows read, " << rows_kept << " kept, " << rows_dropped() << " dropped\n";
  for (const auto& [reason, r] : dropped) {
    os << "  " << r.count << " dropped: " << reason << "\n";
    for (const auto& e : r.examples) os << "      e.g. " << e << "\n";
  }
  for (const auto& n : notes) os << "  rule: " << n << "\n";
  return os.str();
}

}  // namespace aisle::data
