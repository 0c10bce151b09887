package examples

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// TestDockerfile checks that the image exposes the port the manifests use and runs as the
// user they run as, and that it copies the binary of its platform from promu's layout
// (.build/<os>-<arch>/), which make crossbuild fills; scripts/docker-test.sh builds the
// amd64 and arm64 images, pushes and pulls them, and runs one.
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
		`(?m)^ARG ARCH="amd64"$`,
		`(?m)^ARG OS="linux"$`,
		`(?m)^COPY \.build/\$\{OS\}-\$\{ARCH\}/groq_exporter /bin/groq_exporter$`,
		`(?m)^ENTRYPOINT \["/bin/groq_exporter"\]$`,
	} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("%s: no line matching %s", dockerfilePath, want)
		}
	}
}

// TestDockerfileLicence: the image carries the licence label and the LICENSE and NOTICE
// files (scripts/docker-test.sh reads both back from the pushed images), and the build
// context lets them in.
func TestDockerfileLicence(t *testing.T) {
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`org\.opencontainers\.image\.licenses="Apache-2\.0"`,
		`(?m)^COPY LICENSE NOTICE /$`,
	} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("%s: nothing matches %s", dockerfilePath, want)
		}
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"!LICENSE", "!NOTICE"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(ignore) {
			t.Errorf(".dockerignore does not let %s into the build context", want[1:])
		}
	}
}
