module chanlab/gochan

go 1.19
