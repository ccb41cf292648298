// `codesim report`: the HTML report of a result with its trace, and of a sweep, rendered in
// headless Chromium (Debian's chromium, installed by scripts/setup.sh): the page loads without
// a script error or a Vega warning and every chart draws data marks. And bad input: an exit code
// of 2, a message naming the file, and no report written.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "cli/report_page.hpp"
#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
using codesim::testing::example;
using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

// What the page wrote into #codesim-status once rendering ended, read from the DOM Chromium
// holds after the page's scripts ran.
nlohmann::json render(const fs::path& html, const fs::path& dir) {
  const fs::path dom = dir / "dom.html";
  const std::string command =
      std::string("timeout 120 '") + CODESIM_CHROMIUM +
      "' --headless --no-sandbox --disable-gpu --no-first-run "
      "--user-data-dir='" +
      (dir / "chromium-profile").string() + "' --virtual-time-budget=30000 --dump-dom 'file://" +
      html.string() + "' >'" + dom.string() + "' 2>'" + (dir / "chromium.txt").string() + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << "Chromium (" << CODESIM_CHROMIUM
                       << ") did not run; scripts/setup.sh installs Debian's chromium. "
                       << read_text(dir / "chromium.txt");
  const std::string text = read_text(dom);
  std::smatch m;
  static const std::regex status_element(R"re(<pre id="codesim-status">([^<]*)</pre>)re");
  if (!std::regex_search(text, m, status_element)) {
    ADD_FAILURE() << "no #codesim-status in the rendered page";
    return nullptr;
  }
  std::string json = m[1].str();
  // The text node as serialised: &amp; &lt; &gt; back to characters.
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"},
                                 {"&gt;", ">"},
                                 {"&quot;", "\""},
                                 {"&amp;", "&"}}) {
    for (std::size_t at = json.find(from); at != std::string::npos; at = json.find(from, at + 1)) {
      json.replace(at, from.size(), to);
    }
  }
  return nlohmann::json::parse(json);
}

// Every chart drew marks, and nothing went wrong on the page.
void expect_rendered(const nlohmann::json& status, int charts) {
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["state"], "done");
  EXPECT_TRUE(status["errors"].empty()) << status["errors"].dump(2);
  EXPECT_TRUE(status["warnings"].empty()) << status["warnings"].dump(2);
  ASSERT_EQ(int(status["charts"].size()), charts) << status.dump(2);
  for (const auto& c : status["charts"]) EXPECT_GT(c["marks"].get<int>(), 0) << c.dump();
}

int charts_written(const std::string& out) {
  std::smatch m;
  static const std::regex line(R"(codesim report: (\d+) charts)");
  return std::regex_search(out, m, line) ? std::stoi(m[1].str()) : -1;
}

TEST(Report, ResultAndTraceRenderInChromiumWithDataInEveryChart) {
  const auto dir = scratch_dir("report-result");
  const auto train =
      run_codesim("train '" + example("deepseek-v2-lite-h800-64") + "' --json '" +
                      (dir / "r.json").string() + "' --trace '" + (dir / "t.json").string() + "'",
                  dir);
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto report =
      run_codesim("report '" + (dir / "r.json").string() + "' '" + (dir / "t.json").string() +
                      "' --out '" + (dir / "r.html").string() + "'",
                  dir);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string html = read_text(dir / "r.html");
  // Self-contained: the renderer is inlined, nothing is fetched.
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  for (const char* section :
       {"Scenario and plan", "Step breakdown", "Work per pipeline stage", "Memory per GPU",
        "Link use by tier and plane", "Kernels", "Against published figures", "Assumptions",
        "Timeline: deepseek-v2-lite-h800-64"}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  // The published parameter counts of DeepSeek-V2-Lite are not in the reference file; the
  // section says so rather than showing rows of another model.
  EXPECT_NE(html.find("publishes no figure for this model"), std::string::npos);
  const int charts = charts_written(report.out);
  EXPECT_GE(charts, 7);
  const auto status = render(dir / "r.html", dir);
  expect_rendered(status, charts);
  // The timeline (the last chart) draws an operation per bar: thousands of them.
  EXPECT_GT(status["charts"].back()["marks"].get<int>(), 1000);
}

TEST(Report, TrainReportIsTheReportOfItsJsonAndTrace) {
  const auto dir = scratch_dir("report-train");
  const std::string r = (dir / "r.json").string(), t = (dir / "t.json").string();
  const auto train =
      run_codesim("train '" + example("deepseek-v2-lite-h800-64") + "' --json '" + r +
                      "' --trace '" + t + "' --report '" + (dir / "a.html").string() + "'",
                  dir);
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto report =
      run_codesim("report '" + r + "' '" + t + "' --out '" + (dir / "b.html").string() + "'", dir);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string a = read_text(dir / "a.html");
  EXPECT_GT(a.size(), 500'000u);
  EXPECT_TRUE(a == read_text(dir / "b.html"));  // byte for byte
  // Without --trace, the report still has the timeline of one pipeline.
  const auto bare = run_codesim("train '" + example("deepseek-v2-lite-h800-64") + "' --report '" +
                                    (dir / "c.html").string() + "'",
                                dir);
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_NE(read_text(dir / "c.html").find("Timeline: deepseek-v2-lite-h800-64"),
            std::string::npos);
}

TEST(Report, ServingResultAndTraceRender) {
  const auto dir = scratch_dir("report-infer");
  const std::string r = (dir / "r.json").string(), t = (dir / "t.json").string();
  const auto infer = run_codesim("infer '" + example("serve/deepseek-v3-prefill-h800-32") +
                                     "' --json '" + r + "' --trace '" + t + "'",
                                 dir);
  ASSERT_EQ(infer.exit_code, 0) << infer.err;
  const auto report =
      run_codesim("report '" + r + "' '" + t + "' --out '" + (dir / "r.html").string() + "'", dir);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string html = read_text(dir / "r.html");
  for (const char* section : {"Serving estimate: deepseek-v3-prefill-h800-32",
                              "Where a forward goes", "Link use by tier and plane", "Kernels",
                              "Assumptions", "Timeline: deepseek-v3-prefill-h800-32"}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  expect_rendered(render(dir / "r.html", dir), charts_written(report.out));
}

TEST(Report, TextFromTheInputCannotBreakOutOfThePage) {
  const auto dir = scratch_dir("report-escape");
  const auto train =
      run_codesim("train '" + example("gpt-small-a100-64") + "' --engine analytic --json '" +
                      (dir / "r.json").string() + "'",
                  dir);
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto result = nlohmann::json::parse(read_text(dir / "r.json"));
  result["scenario"] = "evil</script><script>throw new Error('escaped')</script><!--";
  result["assumptions"].push_back("<b>not bold</b> & </script>");
  std::ofstream(dir / "evil.json") << result.dump(2);
  const auto report = run_codesim(
      "report '" + (dir / "evil.json").string() + "' --out '" + (dir / "r.html").string() + "'",
      dir);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string html = read_text(dir / "r.html");
  EXPECT_NE(html.find("&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;/script&gt;"), std::string::npos);
  expect_rendered(render(dir / "r.html", dir), charts_written(report.out));
}

TEST(Report, SweepFolderShowsEveryOutputAgainstEveryAxisWithTheBestPointMarked) {
  const auto dir = scratch_dir("report-sweep");
  std::ofstream(dir / "s.yaml") << "sweep:\n  base: " << example("deepseek-v3-h800-2048")
                                << "\n  engine: analytic\n  grid:\n"
                                   "    cluster.topology.kind: [mpft, ft2]\n"
                                   "    plan.max_nodes_per_token: [2, 4, 8]\n"
                                   "  outputs: [step_time_s, mfu, breakdown_s.exposed_ep_comm]\n";
  const auto sweep = run_codesim("sweep '" + (dir / "s.yaml").string() + "' --jobs 2 --out '" +
                                     (dir / "s.sweep").string() + "'",
                                 dir);
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto report = run_codesim(
      "report '" + (dir / "s.sweep").string() + "' --out '" + (dir / "r.html").string() + "'", dir);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  // 3 outputs x 2 axes, then the breakdown of every point.
  EXPECT_EQ(charts_written(report.out), 7);
  const std::string html = read_text(dir / "r.html");
  EXPECT_NE(html.find("<tr class=\"best\">"), std::string::npos);
  EXPECT_NE(html.find("Best point by step_time_s (smaller is better)"), std::string::npos);
  EXPECT_NE(html.find("step_time_s against plan.max_nodes_per_token"), std::string::npos);
  EXPECT_NE(html.find("mfu against cluster.topology.kind"), std::string::npos);
  expect_rendered(render(dir / "r.html", dir), 7);
}

TEST(Report, BadInputIsRefusedWithTheFileNamedAndNoReportWritten) {
  const auto dir = scratch_dir("report-bad");
  std::ofstream(dir / "broken.json") << "{\n  \"step_time_s\": 1,\n  oops\n}\n";
  std::ofstream(dir / "other.json") << "{\"hello\": 1}\n";
  fs::create_directories(dir / "not-a-sweep");
  const std::string out = (dir / "r.html").string();
  struct Case {
    std::string arguments;
    std::string message;
  };
  const Case cases[] = {
      {"'" + (dir / "missing.json").string() + "'", "no such file or folder"},
      {"'" + (dir / "broken.json").string() + "'", "broken.json:3"},
      {"'" + (dir / "other.json").string() + "'", "neither a result"},
      {"'" + (dir / "not-a-sweep").string() + "'", "without sweep.json"},
      {"'" + (dir / "other.json").string() + "' --assets '" + (dir / "nowhere").string() + "'",
       "chart renderer is not installed"},
  };
  for (const Case& c : cases) {
    const auto r = run_codesim("report " + c.arguments + " --out '" + out + "'", dir);
    EXPECT_EQ(r.exit_code, 2) << c.arguments << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.arguments << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.arguments;
  }
  EXPECT_EQ(run_codesim("report --out '" + out + "'", dir).exit_code, 2);
  EXPECT_EQ(run_codesim("report '" + (dir / "other.json").string() + "'", dir).exit_code, 2);
}

TEST(ReportPage, EscapesTextAndKeepsScriptsWhole) {
  ReportPage page("a <title> & more");
  page.paragraph("x < y & \"z\"");
  page.chart({{"title", "</script><!--"}, {"data", {{"values", nlohmann::json::array()}}}});
  const std::string html = page.html({"var s = '</script>';"});
  EXPECT_NE(html.find("<title>a &lt;title&gt; &amp; more</title>"), std::string::npos);
  EXPECT_NE(html.find("<p>x &lt; y &amp; &quot;z&quot;</p>"), std::string::npos);
  EXPECT_NE(html.find("var s = '<\\/script>';"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script>\\u003c!--"), std::string::npos);
  EXPECT_EQ(page.charts(), 1);
}

}  // namespace
}  // namespace codesim::cli
