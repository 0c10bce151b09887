//go:build integration

package main

import (
	"context"
	"errors"
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

func TestSandboxRunsExporterAgainstGateway(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GROQ_SANDBOX_FAKE_EXPORTER", "1")
	exporterAddr := groqtest.FreeAddr(t)
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
	// The sandbox says it is running once the exporter answers, so wait for both.
	for page == "" || !strings.Contains(out.String(), "is running") {
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
