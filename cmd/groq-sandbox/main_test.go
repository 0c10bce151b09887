package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the exporter: run with GROQ_SANDBOX_FAKE_EXPORTER=1 it asks
// --groq.url for requests:rate1m with GROQ_API_KEY and serves what it learned on --web.listen-address.
func TestMain(m *testing.M) {
	if os.Getenv("GROQ_SANDBOX_FAKE_EXPORTER") == "1" {
		fakeExporter(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func fakeExporter(args []string) {
	var groqURL, listen string
	var rest []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--groq.url="); ok {
			groqURL = v
		} else if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			listen = v
		} else {
			rest = append(rest, a)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, groqURL+"/api/v1/query?query=requests%3Arate1m", nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("GROQ_API_KEY"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := fmt.Sprintf("status %d\nseries %d\nargs %s\n", resp.StatusCode, strings.Count(string(body), `"requests:rate1m"`), strings.Join(rest, " "))
	http.ListenAndServe(listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, page) }))
}

func TestSandboxNeedsExporterBinary(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-exporter", "./no-such-groq_exporter"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "go build -o groq_exporter .") {
		t.Fatalf("err = %v, want one that says how to build the exporter", err)
	}
}

// TestSandboxPortTaken: when the exporter's address is taken (another
// sandbox or exporter), the sandbox says so and stops before starting
// anything, without claiming to be running.
func TestSandboxPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err = run(context.Background(), []string{"-exporter", self, "-exporter.listen-address", ln.Addr().String()}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()+" is taken") || !strings.Contains(err.Error(), "make run PORT=") {
		t.Errorf("run = %v, want the address taken and how to choose another port", err)
	}
	if strings.Contains(stdout.String(), "is running") {
		t.Errorf("printed %q", stdout.String())
	}
}
