#pragma once
// One self-contained HTML page of a report: headings, tables, lists and charts, written as the
// body is built. Each chart is a Vega-Lite specification (built with nlohmann-json) that the
// page's script renders with vega-embed; the chart renderer's JavaScript is inlined, so the page
// opens offline. When rendering ends the page writes what it drew into #codesim-status (JSON:
// state, each chart's count of drawn data marks, errors and warnings), which the browser test
// reads.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace codesim::cli {

std::string html_escape(const std::string& text);

class ReportPage {
 public:
  explicit ReportPage(std::string title) : title_(std::move(title)) {}

  void heading(int level, const std::string& text);
  void paragraph(const std::string& text);
  // A small table (no header row when `header` is empty); `highlight`: a row drawn as the best
  // one (-1: none). Cells are escaped.
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows, int highlight = -1);
  void list(const std::vector<std::string>& items);
  // A Vega-Lite chart; `renderer` "svg" (small charts) or "canvas" (thousands of marks).
  void chart(nlohmann::json spec, const std::string& renderer = "svg");
  int charts() const { return int(charts_.size()); }

  // The whole page, with `scripts` (the chart renderer's JavaScript sources) inlined in order.
  std::string html(const std::vector<std::string>& scripts) const;

 private:
  std::string title_;
  std::string body_;
  nlohmann::json charts_ = nlohmann::json::array();
};

}  // namespace codesim::cli
