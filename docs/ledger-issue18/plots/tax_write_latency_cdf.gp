# Write latency CDF per class (all regions; handle = strong claim) (written by meridian lab; run: gnuplot tax_write_latency_cdf.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'tax_write_latency_cdf.svg'
set title 'Write latency CDF per class (all regions; handle = strong claim)'
set xlabel 'latency from intended send time (ms, log)'
set ylabel 'fraction of acknowledged writes <= x'
set grid
set key outside right top
set logscale x
plot 'tax_write_latency_cdf.dat' index 0 using 1:2 with lines title 'counter incr (2999 writes)', \
     'tax_write_latency_cdf.dat' index 1 using 1:2 with lines title 'handle claim (3048 writes)', \
     'tax_write_latency_cdf.dat' index 2 using 1:2 with lines title 'profile put (2954 writes)', \
     'tax_write_latency_cdf.dat' index 3 using 1:2 with lines title 'tags add (2996 writes)'
