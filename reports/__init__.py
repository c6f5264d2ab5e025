"""Reports: the monthly public-opinion report and the charts residents and leaders see."""
