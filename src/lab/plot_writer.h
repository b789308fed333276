// Writes the ledger's plots into DIR/plots (FILE.dat and FILE.gp per plot with points, see
// plots.h) and renders each to FILE.svg with gnuplot when it is installed.
//
// Contract:
//  1. Never fails the lab: a missing gnuplot, a script gnuplot rejects, or a file that cannot be
//     written ends up in ledger.plots_note (and plots_rendered stays false), not in an error.
//  2. Every gnuplot run is bounded (kGnuplotTimeout) and killed past it; its output goes to
//     DIR/plots/gnuplot.log.
//  3. ledger.plots_rendered is true only when every plot with points has its SVG.
//  4. DIR/plots holds this run's figures only: earlier .dat, .gp, .svg and .log files there are
//     removed first.
#pragma once

#include <string>

#include "lab/ledger.h"

namespace meridian {

// The gnuplot executable found on PATH, or "" when there is none.
std::string FindGnuplot();

// Writes and renders every plot of `ledger` under out_dir/plots; sets plots_rendered and
// plots_note. `gnuplot` is the executable to run ("" to only write the data and scripts).
void WritePlots(const std::string& out_dir, const std::string& gnuplot, Ledger& ledger);

}  // namespace meridian
