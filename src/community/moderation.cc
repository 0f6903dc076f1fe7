#include "community/moderation.h"

#include <algorithm>

#include "core/text.h"

namespace siyu::community {
namespace {

constexpr int64_t kFloodKeepMs = 10 * 60 * 1000;

const char* rule_label(const std::string& kind) {
  if (kind == "ads") return "广告";
  if (kind == "links") return "发链接";
  if (kind == "qr_image") return "发二维码";
  if (kind == "competitors") return "提及竞品";
  if (kind == "flood") return "刷屏";
  return "违规用语";
}

std::string warning_text(const store::ModerationRule& r, const std::string& action) {
  std::string out = std::string("【群规提醒】本群禁止") + rule_label(r.kind) + "。";
  if (action == "warn") out += "请遵守群规，再次违规将被移出群聊。";
  return out;
}

}  // namespace

const std::vector<std::string>& default_ad_words() {
  static const std::vector<std::string> words = {
      "加微信", "加v", "加vx", "加威", "薇信", "威信", "vx号", "私聊我", "兼职", "刷单", "日赚",
      "日结", "代购", "返利", "免费领取", "扫码领", "点击领取", "招代理", "稳赚", "淘宝客"};
  return words;
}

std::vector<std::string> read_words(JsonFields& f, std::string_view key, size_t max_words) {
  std::vector<std::string> out;
  const Json* list = f.opt_any(key);
  if (list == nullptr || list->is_null()) return out;
  if (!list->is_array() || list->size() > max_words) {
    f.fail(key, "must be an array of at most " + std::to_string(max_words) + " texts");
    return out;
  }
  for (const Json& w : *list) {
    if (!w.is_string() || w.get<std::string>().empty()) {
      f.fail(key, "must hold non-empty texts");
      return out;
    }
    if (auto problem = text_problem(w.get<std::string>(), 100)) {
      f.fail(key, *problem);
      return out;
    }
    out.push_back(w.get<std::string>());
  }
  return out;
}

Result<store::ModerationRule> parse_rule(const Json& body) {
  if (!body.is_object()) return invalid("body must be a JSON object");
  JsonFields f(body, "");
  store::ModerationRule r;
  r.name = f.req_string("name", 60);
  r.kind = f.opt_enum("kind", kRuleKinds).value_or("");
  if (r.kind.empty() && f.ok()) f.fail("kind", "is required");
  r.action = f.opt_enum("action", kActions).value_or("warn");
  r.words = read_words(f, "words", 500);
  r.flood_messages = static_cast<int>(f.opt_int("flood_messages", 2, 1000).value_or(0));
  r.flood_seconds = static_cast<int>(f.opt_int("flood_seconds", 1, 600).value_or(0));
  r.enabled = f.opt_bool("enabled").value_or(true);
  SIYU_RETURN_IF_ERROR(f.finish());
  if ((r.kind == "competitors" || r.kind == "words") && r.words.empty()) {
    return invalid("words: a " + r.kind + " rule needs at least one word", "words");
  }
  if (r.kind == "flood" && (r.flood_messages == 0 || r.flood_seconds == 0)) {
    return invalid("flood_messages and flood_seconds are required for a flood rule",
                            r.flood_messages == 0 ? "flood_messages" : "flood_seconds");
  }
  return r;
}

Json rule_json(const store::ModerationRule& r) {
  Json j = {{"id", r.id},         {"name", r.name},     {"kind", r.kind},
            {"words", r.words},   {"action", r.action}, {"enabled", r.enabled}};
  if (r.kind == "flood") {
    j["flood_messages"] = r.flood_messages;
    j["flood_seconds"] = r.flood_seconds;
  }
  return j;
}

bool has_link(std::string_view text) {
  std::string plain;
  plain.reserve(text.size());
  for (char32_t c : decode_utf8(text)) {
    c = half_width(c);
    if (c == U'。' || c == U'．' || c == U'点') c = U'.';
    if (c == U' ' || c == U'\t' || c == U'\n') continue;
    if (c < 0x80) plain.push_back(static_cast<char>(c >= U'A' && c <= U'Z' ? c - U'A' + U'a' : c));
    else plain.push_back('#');
  }
  if (plain.find("http") != std::string::npos || plain.find("www.") != std::string::npos) return true;
  static const std::array<std::string_view, 14> kSuffixes = {
      ".com", ".cn", ".net", ".org", ".top", ".xyz", ".vip", ".cc", ".io", ".me", ".link",
      ".info", ".shop", ".site"};
  for (std::string_view suffix : kSuffixes) {
    for (size_t p = plain.find(suffix); p != std::string::npos; p = plain.find(suffix, p + 1)) {
      const size_t end = p + suffix.size();
      const bool ends = end == plain.size() || !std::isalnum(static_cast<unsigned char>(plain[end]));
      const bool named = p > 0 && std::isalnum(static_cast<unsigned char>(plain[p - 1]));
      if (ends && named) return true;
    }
  }
  return false;
}

Moderator::Moderator(const std::vector<store::ModerationRule>& rules,
                     std::shared_ptr<const TextFolder> folder)
    : folder_(std::move(folder)) {
  std::vector<int> tags;
  for (const auto& r : rules) {
    if (!r.enabled) continue;
    const int index = static_cast<int>(rules_.size());
    rules_.push_back(r);
    std::vector<std::string> words = r.words;
    if (r.kind == "ads") words.insert(words.end(), default_ad_words().begin(), default_ad_words().end());
    if (r.kind != "ads" && r.kind != "competitors" && r.kind != "words") continue;
    for (const auto& w : words) {
      word_list_.push_back(folder_->fold(w));
      word_text_.push_back(w);
      tags.push_back(index);
    }
  }
  words_ = WordMatcher(word_list_, tags);
}

void Moderator::set_violations(const std::vector<std::pair<CustomerId, int64_t>>& counts) {
  violations_.clear();
  for (const auto& [c, n] : counts) violations_[c.value] = n;
}

std::string Moderator::escalate(const std::string& action, int64_t prior) const {
  auto it = std::find(kActions.begin(), kActions.end(), action);
  const int64_t base = it == kActions.end() ? 0 : it - kActions.begin();
  const int64_t level = std::min<int64_t>(base + prior, static_cast<int64_t>(kActions.size()) - 1);
  return std::string(kActions[static_cast<size_t>(level)]);
}

bool Moderator::floods(const store::ModerationRule& r, const MessageView& m,
                       const std::vector<EpochMs>& times) {
  const EpochMs window = EpochMs{r.flood_seconds} * 1000;
  size_t in_window = 1;  // this message
  for (auto it = times.rbegin(); it != times.rend() && m.at - *it < window; ++it) ++in_window;
  return in_window >= static_cast<size_t>(r.flood_messages);
}

void Moderator::forget_quiet_senders(EpochMs now) {
  if (now - last_forget_ < kFloodKeepMs) return;
  last_forget_ = now;
  std::erase_if(recent_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() > kFloodKeepMs;
  });
}

std::optional<std::pair<size_t, std::string>> Moderator::match(const MessageView& m,
                                                               const std::u32string& folded,
                                                               const std::vector<EpochMs>& times) {
  if (auto hit = words_.find(folded)) {
    return std::pair(static_cast<size_t>(hit->tag), word_text_[hit->word]);
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    const auto& r = rules_[i];
    if (r.kind == "links" && (m.type == "link" || has_link(m.text))) {
      return std::pair(i, std::string(m.type == "link" ? "link message" : "web address"));
    }
    if (r.kind == "qr_image" && m.qr) return std::pair(i, std::string("QR code image"));
    if (r.kind == "flood" && floods(r, m, times)) {
      return std::pair(i, std::to_string(r.flood_messages) + " messages in " +
                              std::to_string(r.flood_seconds) + " s");
    }
  }
  return std::nullopt;
}

std::optional<store::ModerationAction> Moderator::check(const MessageView& m) {
  if (!m.customer.valid() || rules_.empty()) return std::nullopt;
  const std::u32string folded = folder_->fold(m.text);
  forget_quiet_senders(m.at);
  auto& times = recent_[{m.group.value, m.customer.value}];
  auto found = match(m, folded, times);
  times.push_back(m.at);
  const auto kept = std::find_if(times.begin(), times.end(),
                                 [&](EpochMs t) { return m.at - t <= kFloodKeepMs; });
  times.erase(times.begin(), kept);
  if (!found) return std::nullopt;
  const auto& r = rules_[found->first];
  int64_t& prior = violations_[m.customer.value];
  store::ModerationAction a;
  a.rule_id = r.id;
  a.rule_name = r.name;
  a.action = escalate(r.action, prior);
  a.matched = found->second;
  a.warning = warning_text(r, a.action);
  ++prior;
  return a;
}

}  // namespace siyu::community
