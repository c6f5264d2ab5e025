"""The web side of Xiaoqi: the staff console (`xiaoqi serve`) and the Open311 API for other systems."""
