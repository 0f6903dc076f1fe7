#include "wecom/xml.h"

#include "core/text.h"

namespace siyu::wecom {
namespace {

/// The raw content between <name> and </name>, or nullopt.
std::optional<std::string_view> element(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t body = start + open.size();
  // CDATA may contain "</": find the close tag after any CDATA section.
  size_t scan = body;
  while (true) {
    const size_t cdata_at = xml.find("<![CDATA[", scan);
    const size_t close_at = xml.find(close, scan);
    if (close_at == std::string_view::npos) return std::nullopt;
    if (cdata_at == std::string_view::npos || cdata_at > close_at) {
      return xml.substr(body, close_at - body);
    }
    const size_t cdata_end = xml.find("]]>", cdata_at);
    if (cdata_end == std::string_view::npos) return std::nullopt;
    scan = cdata_end + 3;
  }
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& [entity, ch] : kEntities) {
      if (s.substr(i, entity.size()) == entity) {
        out.push_back(ch);
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

/// Text content: CDATA sections verbatim, other text unescaped, surrounding space trimmed.
std::string text_of(std::string_view raw) {
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    const size_t cdata_at = raw.find("<![CDATA[", i);
    if (cdata_at == std::string_view::npos) {
      out += unescape(raw.substr(i));
      break;
    }
    out += unescape(raw.substr(i, cdata_at - i));
    const size_t end = raw.find("]]>", cdata_at);
    if (end == std::string_view::npos) break;
    out += raw.substr(cdata_at + 9, end - cdata_at - 9);
    i = end + 3;
  }
  return std::string(trim(out));
}

}  // namespace

std::optional<std::string> xml_field(std::string_view xml, std::string_view name) {
  auto raw = element(xml, name);
  if (!raw) return std::nullopt;
  return text_of(*raw);
}

std::vector<std::string> xml_items(std::string_view xml, std::string_view name) {
  std::vector<std::string> out;
  auto raw = element(xml, name);
  if (!raw) return out;
  std::string_view rest = *raw;
  bool any_item = false;
  while (auto item = element(rest, "Item")) {
    any_item = true;
    out.push_back(text_of(*item));
    rest = rest.substr(static_cast<size_t>(item->data() - rest.data()) + item->size() + 7);
  }
  if (!any_item) {
    const std::string joined = text_of(*raw);
    for (std::string_view part : split(joined, ',')) {
      part = trim(part);
      if (!part.empty()) out.emplace_back(part);
    }
  }
  return out;
}

std::string cdata(std::string_view text) {
  std::string out = "<![CDATA[";
  size_t i = 0;
  while (true) {
    const size_t end = text.find("]]>", i);
    if (end == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, end - i + 2);
    out += "]]><![CDATA[";
    i = end + 2;
  }
  return out + "]]>";
}

}  // namespace siyu::wecom
