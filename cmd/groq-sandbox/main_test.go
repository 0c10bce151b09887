package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
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

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestSandboxRunsExporterAgainstGateway(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GROQ_SANDBOX_FAKE_EXPORTER", "1")
	exporterAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out groqtest.LogBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-exporter", self, "-exporter.listen-address", exporterAddr, "-interval", "100ms", "-history", "1s",
			"--", "--log.level=debug", "--groq.cache-ttl=0"}, &out, &out)
	}()

	var page string
	deadline := time.Now().Add(60 * time.Second) // start-up on a busy machine; not a timing assertion
	for page == "" {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter never answered\n%s", out.String())
		}
		if resp, err := http.Get("http://" + exporterAddr + "/"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if want := "status 200\nseries 12\nargs --log.level=debug --groq.cache-ttl=0\n"; page != want {
		t.Errorf("the exporter saw:\n%s\nwant:\n%s", page, want)
	}

	printed := out.String()
	for _, want := range []string{"http://" + exporterAddr + "/metrics", "/v1/metrics/prometheus", "gsk_sandbox_"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	gateway := regexp.MustCompile(`Groq stand-in: +(\S+)`).FindStringSubmatch(printed)
	vm := regexp.MustCompile(`VictoriaMetrics: +(\S+)`).FindStringSubmatch(printed)
	if gateway == nil || vm == nil {
		t.Fatalf("output lacks the gateway or VictoriaMetrics URL:\n%s", printed)
	}

	// New rounds keep arriving: a round per tick, stamped with whole seconds, so the number of distinct
	// samples of one series grows every second.
	countURL := vm[1] + "/api/v1/query?" + url.Values{"query": {`count_over_time(requests:rate1m{model="llama-3.1-8b-instant",status_code="200"}[1h])`}}.Encode()
	first := ""
	for {
		resp, err := http.Get(countURL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := regexp.MustCompile(`"value":\[[^,]+,"(\d+)"\]`).FindStringSubmatch(string(b))
		if n == nil {
			t.Fatalf("count_over_time answered %s", b)
		}
		if first == "" {
			first = n[1]
		} else if n[1] != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new rounds: still %s samples", first)
		}
		time.Sleep(100 * time.Millisecond)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, u := range []string{"http://" + exporterAddr, gateway[1], vm[1]} {
		host := u
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			host = p.Host
		}
		if c, err := net.Dial("tcp", host); !errors.Is(err, syscall.ECONNREFUSED) {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s still accepts connections after run returned (%v)", u, err)
		}
	}
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
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()+" is taken") {
		t.Errorf("run = %v, want the address taken", err)
	}
	if strings.Contains(stdout.String(), "is running") {
		t.Errorf("printed %q", stdout.String())
	}
}
