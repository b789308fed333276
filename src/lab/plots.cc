#include "lab/plots.h"

#include <cstdio>
#include <sstream>

#include "base/assert.h"

namespace meridian {

namespace {

constexpr size_t kPlotFileBytesMax = 64;

std::string FormatCoordinate(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

bool Drawable(const LabPlot& plot, const std::pair<double, double>& point) {
  return (!plot.log_x || point.first > 0) && (!plot.log_y || point.second > 0);
}

bool HasDrawable(const LabPlot& plot, const PlotSeries& series) {
  for (const auto& point : series.points) {
    if (Drawable(plot, point)) return true;
  }
  return false;
}

}  // namespace

bool ValidPlotFile(const std::string& file) {
  if (file.empty() || file.size() > kPlotFileBytesMax) return false;
  for (char c : file) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string GnuplotQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\n') continue;
    out += c == '\'' ? std::string("''") : std::string(1, c);
  }
  return out + "'";
}

std::string RenderPlotData(const LabPlot& plot) {
  std::ostringstream out;
  out << "# " << plot.title << "\n# x: " << plot.x_label << "; y: " << plot.y_label << "\n";
  bool first = true;
  for (const PlotSeries& series : plot.series) {
    if (!HasDrawable(plot, series)) continue;
    if (!first) out << "\n\n";
    first = false;
    out << "# " << series.title << "\n";
    for (const auto& point : series.points) {
      if (!Drawable(plot, point)) continue;
      out << FormatCoordinate(point.first) << " " << FormatCoordinate(point.second) << "\n";
    }
  }
  return out.str();
}

std::string RenderPlotScript(const LabPlot& plot) {
  MERIDIAN_ASSERT(ValidPlotFile(plot.file));
  std::ostringstream out;
  out << "# " << plot.title << " (written by meridian lab; run: gnuplot " << plot.file << ".gp)\n"
      << "set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'\n"
      << "set output " << GnuplotQuote(plot.file + ".svg") << "\n"
      << "set title " << GnuplotQuote(plot.title) << "\n"
      << "set xlabel " << GnuplotQuote(plot.x_label) << "\n"
      << "set ylabel " << GnuplotQuote(plot.y_label) << "\n"
      << "set grid\nset key outside right top\n";
  if (plot.log_x) out << "set logscale x\n";
  if (plot.log_y) out << "set logscale y\n";
  for (size_t i = 0; i < plot.markers.size(); ++i) {
    const auto& [x, label] = plot.markers[i];
    out << "set arrow " << i + 1 << " from " << FormatCoordinate(x) << ", graph 0 to "
        << FormatCoordinate(x) << ", graph 1 nohead dashtype 2 linecolor rgb '#808080'\n"
        << "set label " << i + 1 << " " << GnuplotQuote(label) << " at " << FormatCoordinate(x)
        << ", graph 0.97 left offset 0.5,0\n";
  }
  out << "plot";
  size_t block = 0;
  for (const PlotSeries& series : plot.series) {
    if (!HasDrawable(plot, series)) continue;
    out << (block == 0 ? " " : ", \\\n     ") << GnuplotQuote(plot.file + ".dat") << " index "
        << block << " using 1:2 with " << plot.style << " title " << GnuplotQuote(series.title);
    ++block;
  }
  MERIDIAN_ASSERT_MSG(block > 0, "a plot script needs a series with points");
  out << "\n";
  return out.str();
}

}  // namespace meridian
