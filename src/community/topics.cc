#include "community/topics.h"

#include <algorithm>
#include <unordered_set>

#include "core/text.h"

namespace siyu::community {
namespace {

bool is_cjk(char32_t c) { return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF); }

const std::u32string& stop_chars() {
  static const std::u32string chars =
      U"的了是在我你他她它们吗呢吧啊哦嗯呀哈嘛么就也都还和与及或而这那有没不很太又再被把给让"
      U"个之其以于为着过得将从对向到啦咯喔哟嘿哎噢哇";
  return chars;
}

const std::unordered_set<std::u32string>& stop_words() {
  static const std::unordered_set<std::u32string> words = {
      U"大家", U"今天", U"明天", U"昨天", U"现在", U"时候", U"什么", U"怎么", U"可以", U"一下",
      U"一个", U"谢谢", U"好的", U"知道", U"觉得", U"自己", U"真的", U"还是", U"已经", U"如果",
      U"因为", U"所以", U"但是", U"然后", U"收到", U"哈哈", U"哈哈哈", U"早上好", U"晚上好",
      U"the", U"and", U"for", U"you", U"are", U"with", U"this", U"that", U"have", U"not"};
  return words;
}

bool has_stop_char(std::u32string_view phrase) {
  return std::any_of(phrase.begin(), phrase.end(), [](char32_t c) {
    return stop_chars().find(c) != std::u32string::npos;
  });
}

}  // namespace

std::vector<std::string> extract_terms(const TextFolder& folder, std::string_view text) {
  std::vector<std::u32string> found;
  auto add = [&](std::u32string term) {
    if (found.size() >= kMaxTermsPerMessage || stop_words().contains(term)) return;
    if (std::find(found.begin(), found.end(), term) == found.end()) found.push_back(std::move(term));
  };
  std::u32string run;    // CJK characters
  std::u32string latin;  // letters and digits
  auto flush_run = [&] {
    for (size_t n = 4; n >= 2; --n) {
      for (size_t i = 0; i + n <= run.size(); ++i) {
        std::u32string_view phrase(run.data() + i, n);
        if (!has_stop_char(phrase)) add(std::u32string(phrase));
      }
    }
    run.clear();
  };
  auto flush_latin = [&] {
    const bool digits = std::all_of(latin.begin(), latin.end(),
                                    [](char32_t c) { return c >= U'0' && c <= U'9'; });
    if (latin.size() >= 3 && !digits) add(latin);
    latin.clear();
  };
  for (char32_t raw : decode_utf8(text)) {
    const char32_t c = folder.fold_char(raw);
    if (c == 0) {
      flush_run();
      flush_latin();
    } else if (is_cjk(c)) {
      flush_latin();
      run.push_back(c);
    } else {
      flush_run();
      latin.push_back(c);
    }
  }
  flush_run();
  flush_latin();
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const auto& t : found) out.push_back(encode_utf8(t));
  return out;
}

namespace {

/// Similar counts: the smaller is at least 80% of the larger.
bool similar(int64_t a, int64_t b) { return std::min(a, b) * 5 >= std::max(a, b) * 4; }

/// Joins chains of four-character phrases that overlap by three characters and have similar
/// counts into the longer phrase they come from (杨枝甘露 … 露真好喝 → 杨枝甘露真好喝), which
/// phrases longer than four characters otherwise leave as fragments.
void assemble(std::vector<std::pair<std::string, int64_t>>& leaders) {
  struct Gram {
    std::u32string text;
    int64_t n;
    bool used = false;
  };
  std::vector<Gram> grams;
  for (const auto& [t, n] : leaders) {
    std::u32string cps = decode_utf8(t);
    if (cps.size() == 4) grams.push_back({std::move(cps), n});
  }
  auto successor = [&](const Gram& g) -> Gram* {
    Gram* best = nullptr;
    for (auto& h : grams) {
      if (&h == &g || h.used || !similar(g.n, h.n)) continue;
      if (g.text.compare(1, 3, h.text, 0, 3) == 0 && (!best || h.n > best->n)) best = &h;
    }
    return best;
  };
  auto has_predecessor = [&](const Gram& g) {
    return std::any_of(grams.begin(), grams.end(), [&](const Gram& h) {
      return &h != &g && similar(g.n, h.n) && h.text.compare(1, 3, g.text, 0, 3) == 0;
    });
  };
  // A piece more frequent than the chain (a word that also stands on its own, like 杨枝甘露)
  // still belongs to the phrase at either end.
  auto frequent_neighbour = [&](const Gram& g, int64_t n, bool before) -> const Gram* {
    const Gram* best = nullptr;
    for (const auto& h : grams) {
      if (&h == &g || h.n < n) continue;
      const bool overlaps = before ? h.text.compare(1, 3, g.text, 0, 3) == 0
                                   : g.text.compare(1, 3, h.text, 0, 3) == 0;
      if (overlaps && (!best || h.n > best->n)) best = &h;
    }
    return best;
  };
  for (auto& start : grams) {
    if (start.used || has_predecessor(start)) continue;
    std::u32string phrase = start.text;
    int64_t n = start.n;
    start.used = true;
    const Gram* last = &start;
    for (Gram* next = successor(start); next != nullptr && phrase.size() < 16; next = successor(*next)) {
      next->used = true;
      phrase.push_back(next->text.back());
      n = std::min(n, next->n);
      last = next;
    }
    if (const Gram* before = frequent_neighbour(start, n, true)) phrase.insert(phrase.begin(), before->text.front());
    if (const Gram* after = frequent_neighbour(*last, n, false)) phrase.push_back(after->text.back());
    if (phrase.size() > 4) leaders.emplace_back(encode_utf8(phrase), n);
  }
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> top_terms(
    std::vector<std::pair<std::string, int64_t>> counts, size_t limit) {
  auto by_count = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::sort(counts.begin(), counts.end(), by_count);
  // Phrases that can cover a shorter one are among the leaders; look no further.
  counts.resize(std::min(counts.size(), limit * 5));
  assemble(counts);
  std::sort(counts.begin(), counts.end(), by_count);
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [term, n] : counts) {
    if (out.size() >= limit) break;
    const bool covered = std::any_of(counts.begin(), counts.end(), [&](const auto& longer) {
      return longer.first.size() > term.size() && longer.first.find(term) != std::string::npos &&
             longer.second * 5 >= n * 4;
    });
    if (!covered) out.emplace_back(term, n);
  }
  return out;
}

}  // namespace siyu::community
