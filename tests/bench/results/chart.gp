set terminal png size 1100,600 noenhanced
set bmargin 5
set output "/work/main/tests/bench/results/results.png"
set title "roomq advantage over Socket.IO (Socket.IO / roomq; higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 10
set yrange [0.1:*]
set grid ytics
set key top left
plot "/work/main/tests/bench/results/chart.dat" using 2:xtic(1) title "measured" lc rgb "#2a7ab0", \
     "" using 3 title "target" lc rgb "#bbbbbb"
