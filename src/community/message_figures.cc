#include "community/message_figures.h"

#include <algorithm>

#include "core/time_format.h"

namespace siyu::community {

void count_message(store::MessageFigures& f, const store::GroupMessage& m, int offset_minutes) {
  constexpr int64_t kMinutesPerDay = 24 * 60;
  const int64_t day = local_day(m.at, offset_minutes);
  const int64_t minute =
      ((m.at / 60'000 + offset_minutes) % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
  const int hour = static_cast<int>(minute / 60);
  store::GroupDay& d = f.days[{m.group.value, day}];
  ++d.messages;
  if (m.moderation) ++d.violations;
  ++f.hours[{day, m.group.value, hour}];
  ++f.hours[{day, 0, hour}];  // the workspace's row: the heatmap across groups reads only it
  for (const std::string& t : m.terms) ++f.terms[{day, t}];
  if (m.customer.valid()) {
    store::MemberFigures& a = f.members[{m.group.value, m.customer.value}];
    ++a.messages;
    if (m.moderation) ++a.violations;
    if (a.days.empty() || day > a.days.back()) a.days.push_back(day);
  }
  if (m.reply_author.valid()) ++f.members[{m.group.value, m.reply_author.value}].replies_drawn;
  f.through = std::max(f.through, m.id);
  ++f.messages;
}

}  // namespace siyu::community
