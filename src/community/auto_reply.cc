#include "community/auto_reply.h"

#include "community/moderation.h"
#include "core/text.h"

namespace siyu::community {
namespace {

constexpr std::array<std::string_view, 3> kMatches = {"exact", "contains", "regex"};

/// Code points as a wide string (wchar_t is 32 bits on Linux), so a pattern like 券? applies
/// to a whole character rather than to the last byte of its UTF-8 form.
std::wstring wide(std::string_view text) {
  const std::u32string cps = decode_utf8(text);
  return std::wstring(cps.begin(), cps.end());
}

std::optional<std::wregex> compile(const std::string& pattern) {
  try {
    return std::wregex(wide(pattern), std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

}  // namespace

Result<store::AutoReply> parse_auto_reply(const Json& body) {
  if (!body.is_object()) return invalid("body must be a JSON object");
  JsonFields f(body, "");
  store::AutoReply r;
  r.name = f.req_string("name", 60);
  r.match = f.opt_enum("match", kMatches).value_or("contains");
  r.keywords = read_words(f, "keywords", 50);
  r.reply = f.req_string("reply", 1000);
  r.group = GroupId(f.opt_int("group_id", 0, INT32_MAX).value_or(0));
  r.cooldown_seconds = static_cast<int>(f.opt_int("cooldown_seconds", 0, 86'400).value_or(300));
  r.enabled = f.opt_bool("enabled").value_or(true);
  SIYU_RETURN_IF_ERROR(f.finish());
  if (r.keywords.empty()) return invalid("keywords: at least one keyword is required", "keywords");
  if (r.match == "regex") {
    for (size_t i = 0; i < r.keywords.size(); ++i) {
      if (!compile(r.keywords[i])) {
        return invalid("keywords[" + std::to_string(i) + "]: not a valid regular expression",
                       "keywords[" + std::to_string(i) + "]");
      }
    }
  }
  return r;
}

Json auto_reply_json(const store::AutoReply& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"match", r.match},
          {"keywords", r.keywords},
          {"reply", r.reply},
          {"group_id", r.group.valid() ? Json(r.group.value) : Json(nullptr)},
          {"cooldown_seconds", r.cooldown_seconds},
          {"enabled", r.enabled}};
}

AutoResponder::AutoResponder(const std::vector<store::AutoReply>& replies,
                             std::shared_ptr<const TextFolder> folder)
    : folder_(std::move(folder)) {
  for (const auto& r : replies) {
    if (!r.enabled) continue;
    replies_.push_back(r);
    auto& folded = folded_keywords_.emplace_back();
    auto& patterns = patterns_.emplace_back();
    for (const auto& k : r.keywords) {
      if (r.match == "regex") {
        if (auto re = compile(k)) patterns.push_back(std::move(*re));
      } else {
        folded.push_back(folder_->fold(k));
      }
    }
  }
}

void AutoResponder::set_fired(
    const std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>& fired) {
  for (const auto& [key, at] : fired) fired_[{key.first, key.second.value}] = at;
}

bool AutoResponder::matches(size_t i, std::string_view text, const std::u32string& folded) const {
  const auto& r = replies_[i];
  if (r.match == "regex") {
    const std::wstring w = wide(text);
    for (const auto& re : patterns_[i]) {
      if (std::regex_search(w, re)) return true;
    }
    return false;
  }
  for (const auto& k : folded_keywords_[i]) {
    if (k.empty()) continue;
    if (r.match == "exact" ? folded == k : folded.find(k) != std::u32string::npos) return true;
  }
  return false;
}

std::optional<store::AutoReplyFire> AutoResponder::answer(GroupId group, std::string_view text,
                                                          EpochMs at) {
  if (replies_.empty() || text.empty()) return std::nullopt;
  const std::u32string folded = folder_->fold(text);
  for (size_t i = 0; i < replies_.size(); ++i) {
    const auto& r = replies_[i];
    if (r.group.valid() && r.group != group) continue;
    if (!matches(i, text, folded)) continue;
    auto [it, fresh] = fired_.try_emplace({r.id, group.value}, at);
    if (!fresh) {
      if (at - it->second < EpochMs{r.cooldown_seconds} * 1000) continue;
      it->second = at;
    }
    return store::AutoReplyFire{r.id, r.reply};
  }
  return std::nullopt;
}

}  // namespace siyu::community
