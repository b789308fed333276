# Kill and failback: the counter in each region over time (written by meridian lab; run: gnuplot kill_counters_over_time.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'kill_counters_over_time.svg'
set title 'Kill and failback: the counter in each region over time'
set xlabel 'seconds since the load started'
set ylabel 'counter value read in the region'
set grid
set key outside right top
set arrow 1 from 20.0067, graph 0 to 20.0067, graph 1 nohead dashtype 2 linecolor rgb '#808080'
set label 1 'kill' at 20.0067, graph 0.97 left offset 0.5,0
set arrow 2 from 45.8783, graph 0 to 45.8783, graph 1 nohead dashtype 2 linecolor rgb '#808080'
set label 2 'restart' at 45.8783, graph 0.97 left offset 0.5,0
plot 'kill_counters_over_time.dat' index 0 using 1:2 with points pointsize 0.6 title 'us', \
     'kill_counters_over_time.dat' index 1 using 1:2 with points pointsize 0.6 title 'eu', \
     'kill_counters_over_time.dat' index 2 using 1:2 with points pointsize 0.6 title 'ap'
