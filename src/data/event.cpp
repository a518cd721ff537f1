#include "aisle/data/event.hpp"

namespace aisle::data {

const char* event_name(Event e) {
  switch (e) {
    case Event::unknown: return "unknown";
    case Event::view: return "view";
    case Event::cart: return "cart";
    case Event::purchase: return "purchase";
    case Event::rating: return "rating";
  }
  return "?";
}

const char* part_name(Part p) {
  switch (p) {
    case Part::none: return "none";
    case Part::train: return "train";
    case Part::valid: return "valid";
    case Part::test: return "test";
  }
  return "?";
}

std::optional<Event> parse_event(std::string_view t) {
  if (t == "view" || t == "views") return Event::view;
  if (t == "cart" || t == "addtocart" || t == "add_to_cart") return Event::cart;
  if (t == "purchase" || t == "transaction" || t == "buy" || t == "order") return Event::purchase;
  if (t == "rating") return Event::rating;
  if (t == "unknown") return Event::unknown;
  return std::nullopt;
}

}  // namespace aisle::data
