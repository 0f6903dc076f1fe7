// Hot topics (热门话题): keywords and short phrases of group messages. Chinese has no spaces,
// so a run of CJK characters gives its two- to four-character phrases; Latin words of three
// letters or more count as they are. Phrases with a stop character (的, 了, 吗, …) or in the
// stop-word list are dropped, and each message counts a phrase once.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "community/text_fold.h"

namespace siyu::community {

/// At most this many phrases are taken from one message.
inline constexpr size_t kMaxTermsPerMessage = 24;

/// The distinct phrases of one message, in order of first appearance.
std::vector<std::string> extract_terms(const TextFolder& folder, std::string_view text);

/// The top `limit` of counted phrases. Four-character phrases that chain with overlaps of
/// three characters and similar counts (within 80%) are joined into the longer phrase they come
/// from; then a phrase is left out when a longer one containing it is among the leaders with at
/// least 80% of its count (门店地址 rather than 门店, 店地址, 地址).
std::vector<std::pair<std::string, int64_t>> top_terms(
    std::vector<std::pair<std::string, int64_t>> counts, size_t limit);

}  // namespace siyu::community
