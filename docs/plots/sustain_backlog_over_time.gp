# Replication backlog under sustained load (all regions, peers) (written by meridian lab; run: gnuplot sustain_backlog_over_time.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'sustain_backlog_over_time.svg'
set title 'Replication backlog under sustained load (all regions, peers)'
set xlabel 'seconds since the load started'
set ylabel 'ops not yet acknowledged by peers'
set grid
set key outside right top
plot 'sustain_backlog_over_time.dat' index 0 using 1:2 with lines title 'backlog'
