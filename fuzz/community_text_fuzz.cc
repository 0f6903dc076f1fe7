// libFuzzer target: group message text — folding (OpenCC table, widths, separators), the
// moderation rules, link detection, topic extraction and auto-reply matching (regular
// expressions included) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "community/auto_reply.h"
#include "community/moderation.h"
#include "community/topics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace siyu;
  static const auto folder = community::TextFolder::shared();
  static community::Moderator moderator = [] {
    std::vector<store::ModerationRule> rules(4);
    rules[0].id = 1, rules[0].kind = "ads", rules[0].action = "warn";
    rules[1].id = 2, rules[1].kind = "links", rules[1].action = "remove";
    rules[2].id = 3, rules[2].kind = "words", rules[2].words = {"违禁", "廣告"}, rules[2].action = "warn";
    rules[3].id = 4, rules[3].kind = "flood", rules[3].flood_messages = 5, rules[3].flood_seconds = 10;
    return community::Moderator(rules, folder);
  }();
  static community::AutoResponder responder = [] {
    store::AutoReply r;
    r.id = 1;
    r.match = "regex";
    r.keywords = {"^(优惠|折扣)券?", "\\d{3,}"};
    r.reply = "r";
    r.cooldown_seconds = 0;
    return community::AutoResponder({r}, folder);
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::u32string folded = folder->fold(text);
  for (char32_t c : folded) {
    if (!community::is_word_char(c)) __builtin_trap();
  }
  (void)community::has_link(text);
  const auto terms = community::extract_terms(*folder, text);
  if (terms.size() > community::kMaxTermsPerMessage) __builtin_trap();
  (void)moderator.check(community::MessageView{GroupId(1), CustomerId(1), "text", std::string(text), false,
                                               static_cast<EpochMs>(size)});
  (void)responder.answer(GroupId(1), text, 0);
  return 0;
}
