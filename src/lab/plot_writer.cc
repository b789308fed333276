#include "lab/plot_writer.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "cluster/child_process.h"
#include "lab/plots.h"

namespace meridian {

namespace {

// A plot is a few hundred points: gnuplot renders one in well under a second; the bound only
// keeps a wedged gnuplot from holding the lab.
constexpr auto kGnuplotTimeout = std::chrono::seconds(30);

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// Runs `gnuplot -e "cd 'DIR'" DIR/FILE.gp`; true when it exited 0 and left FILE.svg.
bool Render(const std::string& gnuplot, const std::string& dir, const std::string& file) {
  std::error_code error;
  std::filesystem::remove(dir + "/" + file + ".svg", error);
  ChildProcess child;
  const Status started = child.Start(
      {gnuplot, "-e", "cd " + GnuplotQuote(dir), dir + "/" + file + ".gp"}, dir + "/gnuplot.log");
  if (!started.ok()) return false;
  const std::optional<int> code = child.Wait(kGnuplotTimeout);
  if (!code) child.Kill();
  return code && *code == 0 && std::filesystem::exists(dir + "/" + file + ".svg", error);
}

}  // namespace

std::string FindGnuplot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

void WritePlots(const std::string& out_dir, const std::string& gnuplot, Ledger& ledger) {
  ledger.plots_rendered = false;
  std::error_code error;
  const std::string dir = std::filesystem::absolute(out_dir + "/plots", error).string();
  std::filesystem::create_directories(dir, error);
  if (error) {
    ledger.plots_note = "could not create " + dir + ": " + error.message();
    return;
  }
  // The ledger is rewritten whole, so a previous run's figures would only mislead.
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string extension = entry.path().extension().string();
    if (extension == ".dat" || extension == ".gp" || extension == ".svg" || extension == ".log")
      std::filesystem::remove(entry.path(), error);
  }
  size_t plots = 0;
  size_t rendered = 0;
  std::string problems;
  std::set<std::string> files;
  for (const ExperimentResult& e : ledger.experiments) {
    for (const LabPlot& plot : e.plots) {
      if (!plot.HasPoints()) continue;
      ++plots;
      if (!ValidPlotFile(plot.file) || !files.insert(plot.file).second) {
        problems += " bad or repeated plot name '" + plot.file + "';";
        continue;
      }
      if (!WriteText(dir + "/" + plot.file + ".dat", RenderPlotData(plot)) ||
          !WriteText(dir + "/" + plot.file + ".gp", RenderPlotScript(plot))) {
        problems += " cannot write " + plot.file + ";";
        continue;
      }
      if (gnuplot.empty()) continue;
      if (Render(gnuplot, dir, plot.file))
        ++rendered;
      else
        problems += " gnuplot failed on " + plot.file + ".gp (see plots/gnuplot.log);";
    }
  }
  const std::string counts = std::to_string(plots) + " plots in plots/";
  if (gnuplot.empty()) {
    ledger.plots_note = counts + " as .dat and .gp; gnuplot was not found, so no SVG was " +
                        "rendered (install gnuplot-nox, then `cd DIR/plots && gnuplot FILE.gp`)." +
                        problems;
    return;
  }
  ledger.plots_rendered = plots > 0 && rendered == plots;
  ledger.plots_note = counts + " (.dat data, .gp script, .svg rendered by " + gnuplot + ": " +
                      std::to_string(rendered) + " of " + std::to_string(plots) +
                      "); re-render with `cd DIR/plots && gnuplot FILE.gp`." + problems;
}

}  // namespace meridian
