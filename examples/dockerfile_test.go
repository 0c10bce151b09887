package examples

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// TestDockerfile checks that the image exposes the port the manifests use and runs as the
// user they run as; scripts/docker-test.sh builds and runs the image itself.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`(?m)^EXPOSE %d$`, exporterPort),
		`(?m)^USER 65534:65534$`,
		`(?m)^ARG BASE=gcr\.io/distroless/static-debian12:nonroot$`,
		`(?m)^FROM \$\{BASE\}$`,
		`(?m)^COPY \S+ /etc/ssl/certs/ca-certificates\.crt$`,
	} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("%s: no line matching %s", dockerfilePath, want)
		}
	}
}
