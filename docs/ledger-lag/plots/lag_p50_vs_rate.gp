# Replication lag p50 per link vs aggregate write rate (written by meridian lab; run: gnuplot lag_p50_vs_rate.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'lag_p50_vs_rate.svg'
set title 'Replication lag p50 per link vs aggregate write rate'
set xlabel 'write rate (ops/s, log)'
set ylabel 'lag p50 (ms, log)'
set grid
set key outside right top
set logscale x
set logscale y
plot 'lag_p50_vs_rate.dat' index 0 using 1:2 with linespoints title 'ap->eu p50', \
     'lag_p50_vs_rate.dat' index 1 using 1:2 with linespoints title 'ap->us p50', \
     'lag_p50_vs_rate.dat' index 2 using 1:2 with linespoints title 'eu->ap p50', \
     'lag_p50_vs_rate.dat' index 3 using 1:2 with linespoints title 'eu->us p50', \
     'lag_p50_vs_rate.dat' index 4 using 1:2 with linespoints title 'us->ap p50', \
     'lag_p50_vs_rate.dat' index 5 using 1:2 with linespoints title 'us->eu p50'
