#include "community/roles.h"

#include <algorithm>
#include <cmath>

namespace siyu::community {
namespace {

constexpr int64_t kDayMs = 86'400'000;

/// The value at quantile `q` of `values` (nearest rank); 0 for none.
int64_t quantile(std::vector<int64_t> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string fmt(double v) {
  const auto tenths = static_cast<int64_t>(std::lround(v * 10));
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

}  // namespace

std::string_view role_name(std::string_view role) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "群主", "大管家", "隐藏大佬", "骨干精英", "团宠", "吃瓜群众", "潜水党", "反动派"};
  for (size_t i = 0; i < kRoles.size(); ++i) {
    if (kRoles[i] == role) return kNames[i];
  }
  return role;
}

std::vector<RoleSuggestion> suggest_roles(const std::vector<store::GroupMember>& members,
                                          int64_t today) {
  std::vector<int64_t> counts;
  for (const auto& m : members) {
    if (!m.left_at) counts.push_back(m.messages);
  }
  const int64_t p90 = quantile(counts, 0.9);
  const int64_t p75 = quantile(counts, 0.75);
  std::vector<RoleSuggestion> out;
  for (const auto& m : members) {
    if (m.left_at || m.role == "owner" || m.role == "admin") continue;
    const int64_t days_in = std::max<int64_t>(0, today - m.joined_at / kDayMs);
    const double per_message =
        m.messages > 0 ? static_cast<double>(m.replies_drawn) / static_cast<double>(m.messages) : 0;
    RoleSuggestion s{m.customer, "", ""};
    if (m.violations >= 2) {
      s = {m.customer, "violator", std::to_string(m.violations) + " violations of the group rules"};
    } else if (m.messages >= 5 && per_message >= 2.0) {
      s = {m.customer, "expert",
           std::to_string(m.messages) + " messages drew " + std::to_string(m.replies_drawn) +
               " replies (" + fmt(per_message) + " each)"};
    } else if (m.replies_drawn >= 10 && per_message >= 1.0 && m.messages >= p75) {
      s = {m.customer, "favourite",
           "talks a lot (" + std::to_string(m.messages) + " messages, top quarter) and drew " +
               std::to_string(m.replies_drawn) + " replies"};
    } else if (m.messages >= 20 && m.messages >= p90 && m.active_days >= 7) {
      s = {m.customer, "core",
           std::to_string(m.messages) + " messages (top tenth of the group), active on " +
               std::to_string(m.active_days) + " days"};
    } else if (days_in >= 14 && (m.messages == 0 || today - m.last_active_day > 30)) {
      s = {m.customer, "lurker",
           m.messages == 0 ? "no message in " + std::to_string(days_in) + " days in the group"
                           : "no message for " + std::to_string(today - m.last_active_day) + " days"};
    } else if (m.messages > 0) {
      s = {m.customer, "supporter",
           std::to_string(m.messages) + " messages on " + std::to_string(m.active_days) + " days"};
    }
    if (!s.role.empty() && s.role != m.role) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace siyu::community
