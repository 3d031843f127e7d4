# bench/scale.gp — seconds per AL round and peak memory against pool size (make bench writes
# scale.dat beside it; render again in this folder: gnuplot scale.gp)
reset
set encoding utf8
stats 'scale.dat' using 1:2 nooutput
ref(x) = STATS_max_y * x / STATS_max_x     # slope 1 through the largest pool: linear growth
do for [fmt in "png svg"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1000,420 noenhanced font 'sans,10'
    } else {
        set terminal svg size 1000,420 noenhanced font 'sans,10' background '#ffffff'
    }
    set output 'scale.'.fmt
    set multiplot layout 1,2 title "alsim, CPU (2 cores): synthetic blobs D = 384, model 384-512-10, BALD T = 20"
    set logscale xy
    set grid
    set key top left
    set xlabel 'pool rows'
    set format x '%.0s%c'
    set ylabel 'seconds per round'
    plot 'scale.dat' using 1:2 with linespoints lw 2 pt 7 title 'train + score + select + eval', \
         '' using 1:3 with linespoints lw 1 pt 5 title 'score', \
         ref(x) with lines dt 2 lc 'gray' title 'linear'
    set ylabel 'MiB'
    plot 'scale.dat' using 1:5 with linespoints lw 2 pt 7 title 'peak RSS', \
         '' using 1:6 with linespoints lw 1 pt 5 title 'data (float32 rows)', \
         '' using 1:7 with linespoints lw 1 pt 9 title 'peak RSS - data'
    unset multiplot
    unset output
}
