# compare.gp - p99 latency and server CPU against N, venued and Colyseus
# (tests/bench/compare.mjs writes the data and calls this):
#   gnuplot -e "data='compare.dat'; out='compare.svg'" tests/bench/compare.gp
# Columns: N, venued p99 ms, Colyseus p99 ms, venued CPU %, Colyseus CPU %.
set terminal svg size 900,420 font "sans,12"
set output out
set multiplot layout 1,2
set key top left
set grid
set xlabel "avatars in the room, all moving at 20 Hz"
set ylabel "p99 latency (ms)"
set title "Latency, scheduled send to receipt"
plot data using 1:2 with linespoints title "venued", \
     data using 1:3 with linespoints title "Colyseus", \
     100 with lines dashtype 2 title "target 100 ms"
set ylabel "server CPU (% of one core)"
set title "Server CPU, pinned to one core"
plot data using 1:4 with linespoints title "venued", \
     data using 1:5 with linespoints title "Colyseus"
unset multiplot
