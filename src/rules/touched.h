// Who a sweep after writes re-checks. Customers whose facts changed in any way are re-checked
// by every rule and segment; customers who only had events are re-checked by those reading
// events of the types they had — a segment of "3 orders this week" has nothing to learn from
// a page view, which at 1,000 saved segments is most of a sweep's work saved.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/customer_index.h"

namespace siyu::rules {

class Touched {
 public:
  /// Customers whose facts changed in any way.
  void add_any(const index::Bitmap& ids);
  /// Customers (ids in increasing order) whose only change is an event of `type`.
  void add_events(std::string_view type, std::span<const uint32_t> ids);
  /// Everything `other` holds, too.
  void merge(const Touched& other);

  /// Those whose change can matter to an expression that reads events of `types` (sorted),
  /// or of any type when nullopt (segment::event_types_read).
  index::Bitmap relevant_to(const std::optional<std::vector<std::string>>& types) const;

 private:
  index::Bitmap any_;
  std::map<std::string, index::Bitmap, std::less<>> by_event_type_;
  index::Bitmap all_;  // everyone touched, kept for the rules and segments reading any event
};

}  // namespace siyu::rules
