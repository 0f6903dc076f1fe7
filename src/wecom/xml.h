// Reading WeCom's XML messages. They are flat: one <xml> root with leaf elements whose text
// may be wrapped in CDATA, and a few lists of <Item> elements. This reads exactly that and
// nothing more (no entities beyond the five predefined ones, no attributes, no DTDs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace siyu::wecom {

/// The text of the first element named `name`, CDATA unwrapped; nullopt when absent.
std::optional<std::string> xml_field(std::string_view xml, std::string_view name);

/// The <Item> texts inside element `name`; an element holding one comma-joined text (a form
/// seen in the wild) gives its parts.
std::vector<std::string> xml_items(std::string_view xml, std::string_view name);

/// Wraps text in CDATA for writing (splitting any "]]>").
std::string cdata(std::string_view text);

}  // namespace siyu::wecom
