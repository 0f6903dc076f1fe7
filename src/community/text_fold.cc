#include "community/text_fold.h"

#include <opencc.h>

#include <mutex>

#include "core/text.h"

namespace siyu::community {
namespace {

constexpr char32_t kCjkFirst = 0x3400;
constexpr char32_t kCjkLast = 0x9FFF;

}  // namespace

char32_t half_width(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;
  if (c == 0x3000) return U' ';
  return c;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
  return (c >= 0x00C0 && c <= 0x024F && c != 0x00D7 && c != 0x00F7) ||
         (c >= 0x0370 && c <= 0x04FF) || (c >= 0x3040 && c <= 0x30FF) ||
         (c >= kCjkFirst && c <= kCjkLast) || (c >= 0xAC00 && c <= 0xD7AF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

Result<std::shared_ptr<const TextFolder>> TextFolder::open() {
  opencc_t cc = opencc_open("t2s.json");
  if (cc == reinterpret_cast<opencc_t>(-1)) {
    return internal_error(std::string("opencc: cannot open t2s.json: ") + opencc_error());
  }
  // Convert every ideograph of the table's range on its own line, so each converts alone
  // (character mappings, not phrases) in one call.
  std::u32string all;
  all.reserve(static_cast<size_t>(kCjkLast - kCjkFirst + 1) * 2);
  for (char32_t c = kCjkFirst; c <= kCjkLast; ++c) {
    all.push_back(c);
    all.push_back(U'\n');
  }
  const std::string input = encode_utf8(all);
  char* converted = opencc_convert_utf8(cc, input.data(), input.size());
  opencc_close(cc);
  if (converted == nullptr) return internal_error("opencc: conversion failed");
  const std::u32string out = decode_utf8(converted);
  opencc_convert_utf8_free(converted);
  std::shared_ptr<TextFolder> folder(new TextFolder());
  folder->simplified_.assign(static_cast<size_t>(kCjkLast - kCjkFirst + 1), 0);
  size_t line_start = 0;
  char32_t c = kCjkFirst;
  for (size_t i = 0; i < out.size() && c <= kCjkLast; ++i) {
    if (out[i] != U'\n') continue;
    if (i - line_start == 1 && out[line_start] != c) folder->simplified_[c - kCjkFirst] = out[line_start];
    line_start = i + 1;
    ++c;
  }
  return std::shared_ptr<const TextFolder>(std::move(folder));
}

std::shared_ptr<const TextFolder> TextFolder::shared() {
  static std::once_flag once;
  static std::shared_ptr<const TextFolder> instance;
  std::call_once(once, [] {
    auto opened = open();
    instance = opened ? *opened : std::shared_ptr<const TextFolder>(new TextFolder());
  });
  return instance;
}

char32_t TextFolder::fold_char(char32_t c) const {
  c = half_width(c);
  if (c >= U'A' && c <= U'Z') return c - U'A' + U'a';
  if (!is_word_char(c)) return 0;
  if (c >= kCjkFirst && c <= kCjkLast && !simplified_.empty()) {
    const char32_t s = simplified_[c - kCjkFirst];
    if (s != 0) return s;
  }
  return c;
}

std::u32string TextFolder::fold(std::string_view text) const {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : decode_utf8(text)) {
    if (char32_t f = fold_char(c); f != 0) out.push_back(f);
  }
  return out;
}

}  // namespace siyu::community
