module github.com/example/gokv

go 1.22

require github.com/example/bytesize v1.0.2
