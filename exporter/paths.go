package exporter

// Paths are the paths NewHandler serves besides the metrics and the status
// page at /: the metrics path may be none of them.
func Paths() []string {
	return []string{"/-/healthy", "/-/ready", "/-/reload", "/config", ProbePath, DiscoveryPath}
}
