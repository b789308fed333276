# Replication lag p99 per link under sustained load (written by meridian lab; run: gnuplot sustain_lag_over_time.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'sustain_lag_over_time.svg'
set title 'Replication lag p99 per link under sustained load'
set xlabel 'seconds since the load started'
set ylabel 'lag p99 per interval (ms, log)'
set grid
set key outside right top
set logscale y
plot 'sustain_lag_over_time.dat' index 0 using 1:2 with linespoints title 'ap->eu p99', \
     'sustain_lag_over_time.dat' index 1 using 1:2 with linespoints title 'ap->us p99', \
     'sustain_lag_over_time.dat' index 2 using 1:2 with linespoints title 'eu->ap p99', \
     'sustain_lag_over_time.dat' index 3 using 1:2 with linespoints title 'eu->us p99', \
     'sustain_lag_over_time.dat' index 4 using 1:2 with linespoints title 'us->ap p99', \
     'sustain_lag_over_time.dat' index 5 using 1:2 with linespoints title 'us->eu p99'
