#include "harness/trace/report_text.h"

namespace faultline::trace {

std::string clip(std::string text, std::size_t lines, std::size_t chars,
                 std::string_view cut_marker) {
  std::erase(text, '\r');
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  bool cut = false;
  std::size_t pos = std::string::npos, start = 0;
  for (std::size_t n = 0; n < lines; ++n) {
    pos = text.find('\n', start);
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  if (pos != std::string::npos) text.resize(pos), cut = true;
  if (text.size() > chars) {
    std::size_t end = chars;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end), cut = true;
  }
  return cut ? text + std::string(cut_marker) : text;
}

}  // namespace faultline::trace
