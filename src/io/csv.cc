#include "io/csv.h"

#include <iconv.h>

#include <cerrno>

#include "core/text.h"

namespace siyu::io {

Result<std::string> to_utf8(std::string_view raw) {
  if (starts_with(raw, kUtf8Bom)) raw.remove_prefix(kUtf8Bom.size());
  if (is_valid_utf8(raw)) return std::string(raw);
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return internal_error("GB18030 decoding is unavailable");
  std::string out(raw.size() * 2 + 16, '\0');
  char* in_ptr = const_cast<char*>(raw.data());
  size_t in_left = raw.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  const size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1) || in_left != 0) {
    return invalid("file is neither UTF-8 nor GB18030 text");
  }
  out.resize(out.size() - out_left);
  if (!is_valid_utf8(out)) return invalid("file is neither UTF-8 nor GB18030 text");
  return out;
}

Result<std::vector<CsvRow>> parse_csv(std::string_view text) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  size_t line = 1, quote_line = 0;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
    row.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line;
        field.push_back(ch);
      }
      continue;
    }
    if (ch == '"' && !field_started) {
      quoted = true;
      field_started = true;
      quote_line = line;
    } else if (ch == ',') {
      end_field();
    } else if (ch == '\n') {
      end_row();
      ++line;
    } else if (ch == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      end_row();
    } else {
      field.push_back(ch);
      field_started = true;
    }
  }
  if (quoted) return invalid("line " + std::to_string(quote_line) + ": unterminated quoted field");
  if (field_started || !row.empty()) end_row();
  return rows;
}

void append_csv_row(std::string& out, const CsvRow& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out.push_back(',');
    std::string f = row[i];
    const bool numeric = f.size() > 1 && f.find_first_not_of("0123456789.", 1) == std::string::npos;
    if (!f.empty() && (f[0] == '=' || f[0] == '@' || ((f[0] == '+' || f[0] == '-') && !numeric))) {
      f.insert(f.begin(), '\'');
    }
    if (f.find_first_of(",\"\r\n") != std::string::npos) {
      out.push_back('"');
      for (char ch : f) {
        if (ch == '"') out.push_back('"');
        out.push_back(ch);
      }
      out.push_back('"');
    } else {
      out += f;
    }
  }
  out += "\r\n";
}

}  // namespace siyu::io
