// Keyword auto-replies (关键词自动回复): exact, contains or regular-expression matches on a
// message, for one group or every group, each with a cooldown per group so a busy group gets
// one answer, not a flood of them.
#pragma once

#include <map>
#include <memory>
#include <regex>
#include <vector>

#include "community/text_fold.h"
#include "core/json.h"
#include "store/community_records.h"

namespace siyu::community {

/// Reads an auto-reply body (create or replace); regular expressions are compiled to check
/// them. kInvalidArgument naming the field.
Result<store::AutoReply> parse_auto_reply(const Json& body);
Json auto_reply_json(const store::AutoReply& r);

/// The auto-replies of one workspace, compiled, with their cooldown state. Not thread-safe:
/// the owner serialises calls per workspace.
class AutoResponder {
 public:
  AutoResponder(const std::vector<store::AutoReply>& replies,
                std::shared_ptr<const TextFolder> folder);

  /// Restores when each reply last fired in each group.
  void set_fired(const std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>& fired);

  /// The reply to `text` posted in `group` at `at`, if any rule matches and is out of its
  /// cooldown there (the first such rule by id). Marks it fired.
  std::optional<store::AutoReplyFire> answer(GroupId group, std::string_view text, EpochMs at);

 private:
  bool matches(size_t i, std::string_view text, const std::u32string& folded) const;

  std::vector<store::AutoReply> replies_;
  std::shared_ptr<const TextFolder> folder_;
  std::vector<std::vector<std::u32string>> folded_keywords_;
  std::vector<std::vector<std::wregex>> patterns_;
  std::map<std::pair<int64_t, int64_t>, EpochMs> fired_;  // (reply, group) → last fire
};

}  // namespace siyu::community
