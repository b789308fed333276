# Convergence after heal: fraction of conflicting keys agreed everywhere (written by meridian lab; run: gnuplot partition_convergence.gp)
set terminal svg size 960,540 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'partition_convergence.svg'
set title 'Convergence after heal: fraction of conflicting keys agreed everywhere'
set xlabel 'seconds since the heal'
set ylabel 'fraction of keys with one value in every region'
set grid
set key outside right top
plot 'partition_convergence.dat' index 0 using 1:2 with steps title 'us-eu', \
     'partition_convergence.dat' index 1 using 1:2 with steps title 'us isolated'
