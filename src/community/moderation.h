// Moderation (群管理): rules for ads, links, QR-code images, competitor names, flooding and
// custom word lists, checked on folded text (community/text_fold.h) so Traditional and
// Simplified, full-width and half-width, and words broken up by spaces or symbols all match.
// The first violation of a customer gets the rule's action; each repeat within the window
// escalates one step along warn → remove → blacklist, across every group of the workspace.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "community/matcher.h"
#include "community/text_fold.h"
#include "core/json.h"
#include "store/community_records.h"

namespace siyu::community {

/// Rule kinds and actions, in the order the console offers them.
inline constexpr std::array<std::string_view, 6> kRuleKinds = {"ads",         "links", "qr_image",
                                                               "competitors", "flood", "words"};
inline constexpr std::array<std::string_view, 3> kActions = {"warn", "remove", "blacklist"};

/// Reads an optional array of 1–`max_words` non-empty texts at `key`.
std::vector<std::string> read_words(JsonFields& f, std::string_view key, size_t max_words);

/// Words every ads rule matches besides its own (folded before matching).
const std::vector<std::string>& default_ad_words();

/// Reads a rule body (create or replace). kInvalidArgument naming the field.
Result<store::ModerationRule> parse_rule(const Json& body);
Json rule_json(const store::ModerationRule& r);

/// A message as moderation sees it.
struct MessageView {
  GroupId group;
  CustomerId customer;   // 0: staff or unknown (never moderated)
  std::string type;      // text, image, link, ...
  std::string text;
  bool qr = false;       // an image the collector found a QR code in
  EpochMs at = 0;
};

/// The rules of one workspace, compiled, with the state they need: recent message times per
/// member (flooding) and violations per customer (escalation). Not thread-safe: the owner
/// serialises calls per workspace.
class Moderator {
 public:
  Moderator(const std::vector<store::ModerationRule>& rules,
            std::shared_ptr<const TextFolder> folder);

  /// Loads violation counts within the escalation window (from the moderation log).
  void set_violations(const std::vector<std::pair<CustomerId, int64_t>>& counts);

  /// The action for `m`, or nullopt when it breaks no rule. Counts the violation.
  std::optional<store::ModerationAction> check(const MessageView& m);

  /// The action for a customer's next violation of a rule whose first action is `action`.
  std::string escalate(const std::string& action, int64_t prior) const;

 private:
  struct Compiled {
    store::ModerationRule rule;
  };
  /// `times`: the sender's earlier messages in the group, oldest first.
  std::optional<std::pair<size_t, std::string>> match(const MessageView& m,
                                                      const std::u32string& folded,
                                                      const std::vector<EpochMs>& times);
  static bool floods(const store::ModerationRule& r, const MessageView& m,
                     const std::vector<EpochMs>& times);
  /// Forgets senders with no message in the flood window before `now` (once per window).
  void forget_quiet_senders(EpochMs now);

  std::vector<store::ModerationRule> rules_;
  std::shared_ptr<const TextFolder> folder_;
  WordMatcher words_;                    // tag = rule index
  std::vector<std::u32string> word_list_;
  std::vector<std::string> word_text_;   // the word as the operator wrote it
  std::unordered_map<int64_t, int64_t> violations_;  // customer → count
  /// (group, customer) → times of their recent messages in the group, oldest first.
  std::unordered_map<std::pair<int64_t, int64_t>, std::vector<EpochMs>, store::FigureKeyHash> recent_;
  EpochMs last_forget_ = 0;
};

/// True when `text` holds a web address (http, www. or a domain with a common suffix), also
/// when broken up by spaces or written full-width.
bool has_link(std::string_view text);

}  // namespace siyu::community
