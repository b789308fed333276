// The lab's figures as gnuplot input: one data file and one script per LabPlot. Pure functions
// (no I/O); plot_writer.h writes and renders them.
//
// Invariants:
//  1. The data file holds one gnuplot data block per series that has points (blocks separated by
//     two blank lines, so `index i` selects series i), and the script plots exactly those blocks,
//     in the same order: a series without points is left out of both.
//  2. The script names files relative to the directory holding it (`cd DIR/plots && gnuplot
//     FILE.gp` reproduces the SVG) and draws with the svg terminal, text not "enhanced" (region
//     and metric names keep their underscores).
//  3. On a logarithmic axis, points with a coordinate <= 0 are left out (gnuplot cannot draw
//     them); every other point is written with 6 significant digits.
#pragma once

#include <string>

#include "lab/ledger.h"

namespace meridian {

// True when `file` is a usable plot file stem: 1-64 of [a-z0-9_-].
bool ValidPlotFile(const std::string& file);

// FILE.dat: the series' points, "x y" per line, a comment line naming each block.
std::string RenderPlotData(const LabPlot& plot);

// FILE.gp: terminal, labels, axes, markers, and one plot clause per series with points.
// REQUIRES: plot.HasPoints() and ValidPlotFile(plot.file).
std::string RenderPlotScript(const LabPlot& plot);

// A string as a single-quoted gnuplot literal (gnuplot doubles a quote inside one).
std::string GnuplotQuote(const std::string& text);

}  // namespace meridian
