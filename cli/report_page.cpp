#include "cli/report_page.hpp"

#include <fmt/format.h>

namespace codesim::cli {
namespace {

// The page's style: plain, readable, printable.
constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       margin: 2em auto; max-width: 1200px; padding: 0 1.5em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; }
tr.best td { background: #fff4d6; font-weight: 600; }
.chart { display: inline-block; vertical-align: top; margin: 1em 1.5em 1em 0; }
.table { overflow-x: auto; max-width: 100%; }
ul.assumptions li { margin: 0.2em 0; }
#codesim-status { display: none; }
footer { margin-top: 3em; color: #777; font-size: 0.9em; }
)";

// Renders every chart, then reports what was drawn in #codesim-status.
constexpr const char* kBootstrap = R"(
(function () {
  const status = { state: 'rendering', charts: [], errors: [], warnings: [] };
  const out = document.getElementById('codesim-status');
  const write = () => { out.textContent = JSON.stringify(status); };
  window.addEventListener('error', (e) => { status.errors.push(String(e.message)); write(); });
  window.addEventListener('unhandledrejection', (e) => {
    status.errors.push(String(e.reason)); write();
  });
  const logger = {
    lvl: 2,
    level(l) { if (l === undefined) return this.lvl; this.lvl = l; return this; },
    error(...a) { status.errors.push(a.join(' ')); return this; },
    warn(...a) { status.warnings.push(a.join(' ')); return this; },
    info() { return this; },
    debug() { return this; },
  };
  // Data marks drawn (not axes, legends or titles), through the scenegraph.
  const marks = (mark) => {
    let n = 0;
    for (const item of mark.items || []) {
      if (mark.marktype !== 'group' && mark.role === 'mark') n += 1;
      for (const child of item.items || []) n += marks(child);
    }
    return n;
  };
  let charts = [];
  try {
    charts = JSON.parse(document.getElementById('codesim-charts').textContent);
  } catch (e) {
    status.errors.push('charts: ' + e); status.state = 'failed'; write(); return;
  }
  if (typeof vegaEmbed !== 'function') {
    status.errors.push('vega-embed is not loaded'); status.state = 'failed'; write(); return;
  }
  Promise.all(charts.map((c) =>
    vegaEmbed('#' + c.id, c.spec, { renderer: c.renderer, actions: false, logger: logger })
      .then((r) => { status.charts.push({ id: c.id, marks: marks(r.view.scenegraph().root) }); })
      .catch((e) => { status.errors.push(c.id + ': ' + e); })))
    .then(() => {
      status.charts.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      status.state = 'done';
      write();
    });
  write();
})();
)";

// JavaScript inside <script>: only "</script" ends the element early; it is written "<\/script",
// which a JavaScript string reads as the same text.
std::string script_safe(std::string text) {
  for (std::size_t at = text.find("</script"); at != std::string::npos;
       at = text.find("</script", at + 2)) {
    text.insert(at + 1, "\\");
  }
  return text;
}

// JSON inside <script>: every '<' (only ever inside a string) as \u003c, so that no "</script"
// or "<!--" can reach the HTML parser.
std::string json_script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (const char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void ReportPage::heading(int level, const std::string& text) {
  body_ += fmt::format("<h{0}>{1}</h{0}>\n", level, html_escape(text));
}

void ReportPage::paragraph(const std::string& text) {
  body_ += "<p>" + html_escape(text) + "</p>\n";
}

void ReportPage::table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, int highlight) {
  body_ += "<div class=\"table\"><table>\n";
  if (!header.empty()) {
    body_ += "<tr>";
    for (const auto& h : header) body_ += "<th>" + html_escape(h) + "</th>";
    body_ += "</tr>\n";
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    body_ += int(i) == highlight ? "<tr class=\"best\">" : "<tr>";
    for (const auto& cell : rows[i]) body_ += "<td>" + html_escape(cell) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table></div>\n";
}

void ReportPage::list(const std::vector<std::string>& items) {
  body_ += "<ul class=\"assumptions\">\n";
  for (const auto& item : items) body_ += "<li>" + html_escape(item) + "</li>\n";
  body_ += "</ul>\n";
}

void ReportPage::chart(nlohmann::json spec, const std::string& renderer) {
  const std::string id = fmt::format("chart{}", charts_.size());
  spec["$schema"] = "https://vega.github.io/schema/vega-lite/v6.json";
  charts_.push_back({{"id", id}, {"renderer", renderer}, {"spec", std::move(spec)}});
  body_ += fmt::format("<div class=\"chart\" id=\"{}\"></div>\n", id);
}

std::string ReportPage::html(const std::vector<std::string>& scripts) const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>" + html_escape(title_) + "</title>\n<style>" + kStyle + "</style>\n";
  for (const auto& s : scripts) out += "<script>\n" + script_safe(s) + "\n</script>\n";
  out += "</head>\n<body>\n" + body_;
  out += "<pre id=\"codesim-status\"></pre>\n";
  out += "<script type=\"application/json\" id=\"codesim-charts\">" +
         json_script_safe(charts_.dump()) + "</script>\n";
  out += std::string("<script>") + kBootstrap + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace codesim::cli
