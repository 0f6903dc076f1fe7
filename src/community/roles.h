// Member roles (DOMAIN.md §5) and suggestions from behaviour. 群主 owner and 大管家 admin are
// set by hand; the others are suggested with their reason for an operator to confirm:
//   反动派 violator  — two or more moderation violations
//   隐藏大佬 expert  — speaks rarely (5+ messages) but each message draws 2+ replies on average
//   团宠 favourite   — talks a lot (top quarter) and draws at least one reply per message (10+)
//   骨干精英 core    — top tenth of the group by messages (20+) and active on 7+ days
//   潜水党 lurker    — in the group 14+ days without a message in the last 30 days
//   吃瓜群众 supporter — everyone else who takes part
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/community_records.h"

namespace siyu::community {

inline constexpr std::array<std::string_view, 8> kRoles = {
    "owner", "admin", "expert", "core", "favourite", "supporter", "lurker", "violator"};

/// The Chinese name of a role key ("expert" → "隐藏大佬"); the key itself when unknown.
std::string_view role_name(std::string_view role);

struct RoleSuggestion {
  CustomerId customer;
  std::string role;
  std::string reason;
};

/// Suggestions for the current members of one group whose suggested role differs from their
/// role; members with owner or admin keep them. `today` is the workspace day.
std::vector<RoleSuggestion> suggest_roles(const std::vector<store::GroupMember>& members,
                                          int64_t today);

}  // namespace siyu::community
