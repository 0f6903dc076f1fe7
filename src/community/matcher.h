// Multi-word matching over folded text (Aho–Corasick): one pass over a message finds the
// first of any number of words, in time linear in the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace siyu::community {

/// Immutable after construction; thread-safe to query.
class WordMatcher {
 public:
  /// `words` are folded already; empty words are ignored. `tags[i]` is reported for words[i].
  WordMatcher(const std::vector<std::u32string>& words, const std::vector<int>& tags);
  WordMatcher() : WordMatcher({}, {}) {}

  struct Hit {
    int tag = 0;
    size_t word = 0;  // index into the constructor's words
  };
  /// The first word (by end position) found in `text`.
  std::optional<Hit> find(std::u32string_view text) const;
  bool empty() const { return words_ == 0; }

 private:
  struct Node {
    std::unordered_map<char32_t, int> next;
    int fail = 0;
    int out = -1;  // index of a word ending here (or at a suffix state)
  };
  std::vector<Node> nodes_;
  std::vector<int> tags_;
  size_t words_ = 0;
};

}  // namespace siyu::community
