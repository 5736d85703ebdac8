module github.com/truce-dev/truce

go 1.26

require (
	github.com/golang/geo v0.0.0-20260818125358-b200a1149890
	github.com/peterstace/simplefeatures v0.50.0
)

require go.yaml.in/yaml/v3 v3.0.6
