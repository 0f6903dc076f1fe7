#include "community/matcher.h"

#include <deque>

namespace siyu::community {

WordMatcher::WordMatcher(const std::vector<std::u32string>& words, const std::vector<int>& tags)
    : nodes_(1), tags_(tags) {
  tags_.resize(words.size(), 0);
  for (size_t w = 0; w < words.size(); ++w) {
    if (words[w].empty()) continue;
    ++words_;
    int at = 0;
    for (char32_t c : words[w]) {
      auto it = nodes_[static_cast<size_t>(at)].next.find(c);
      if (it == nodes_[static_cast<size_t>(at)].next.end()) {
        nodes_.push_back(Node{});
        const int made = static_cast<int>(nodes_.size() - 1);
        nodes_[static_cast<size_t>(at)].next.emplace(c, made);
        at = made;
      } else {
        at = it->second;
      }
    }
    if (nodes_[static_cast<size_t>(at)].out < 0) nodes_[static_cast<size_t>(at)].out = static_cast<int>(w);
  }
  // Breadth-first failure links; a state inherits the output of its failure state.
  std::deque<int> queue;
  for (const auto& [c, child] : nodes_[0].next) queue.push_back(child);
  while (!queue.empty()) {
    const int s = queue.front();
    queue.pop_front();
    for (const auto& [c, child] : nodes_[static_cast<size_t>(s)].next) {
      int f = nodes_[static_cast<size_t>(s)].fail;
      while (f != 0 && !nodes_[static_cast<size_t>(f)].next.contains(c)) f = nodes_[static_cast<size_t>(f)].fail;
      auto it = nodes_[static_cast<size_t>(f)].next.find(c);
      const int target = it != nodes_[static_cast<size_t>(f)].next.end() && it->second != child ? it->second : 0;
      Node& n = nodes_[static_cast<size_t>(child)];
      n.fail = target;
      if (n.out < 0) n.out = nodes_[static_cast<size_t>(target)].out;
      queue.push_back(child);
    }
  }
}

std::optional<WordMatcher::Hit> WordMatcher::find(std::u32string_view text) const {
  if (words_ == 0) return std::nullopt;
  int s = 0;
  for (char32_t c : text) {
    while (true) {
      const auto& next = nodes_[static_cast<size_t>(s)].next;
      auto it = next.find(c);
      if (it != next.end()) {
        s = it->second;
        break;
      }
      if (s == 0) break;
      s = nodes_[static_cast<size_t>(s)].fail;
    }
    const int out = nodes_[static_cast<size_t>(s)].out;
    if (out >= 0) return Hit{tags_[static_cast<size_t>(out)], static_cast<size_t>(out)};
  }
  return std::nullopt;
}

}  // namespace siyu::community
