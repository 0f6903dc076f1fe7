// Text folding for moderation and keyword matching: Traditional Chinese to Simplified (a
// character table built once from OpenCC's t2s conversion), full-width to half-width, ASCII
// lower case, and separators dropped, so "加 ＶＸ" and "加-v-x" both read "加vx" and 廣告 reads 广告.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace siyu::community {

/// Immutable after construction; fold() is thread-safe and allocation-light.
class TextFolder {
 public:
  /// Builds the Traditional → Simplified table from OpenCC's t2s configuration (Debian
  /// package libopencc1.1). kInternal when OpenCC or its data files are missing.
  static Result<std::shared_ptr<const TextFolder>> open();
  /// The shared instance, built on first use (about 20 ms). Without OpenCC it folds width,
  /// case and separators but not scripts.
  static std::shared_ptr<const TextFolder> shared();

  /// Folded code points of `text`: letters, digits and CJK characters only.
  std::u32string fold(std::string_view text) const;
  /// One code point folded, or 0 when it is a separator (space, punctuation, symbol).
  char32_t fold_char(char32_t c) const;

 private:
  TextFolder() = default;
  std::vector<char32_t> simplified_;  // indexed by c - kCjkFirst; 0 = unchanged
};

/// Full-width forms (U+FF01–U+FF5E, U+3000) to their ASCII counterparts; others unchanged.
char32_t half_width(char32_t c);
/// True for code points kept by folding: ASCII letters and digits, Latin, Greek and Cyrillic
/// letters, kana, Hangul and CJK ideographs.
bool is_word_char(char32_t c);

}  // namespace siyu::community
