// Command groq-sandbox runs groq_exporter against a local stand-in for Groq's metrics API, so the exporter
// can be tried without a Groq Enterprise account.
//
// It starts VictoriaMetrics, fills it with synthetic Groq-shaped traffic and keeps adding a new round
// every -interval, serves it through the groqtest Gateway (Groq's paths, bearer-key auth) with a generated
// demo key, and runs the exporter binary with GROQ_API_KEY set and --groq.url pointing at the gateway.
// Arguments after the flags (after "--") are passed on to the exporter. Ctrl-C or SIGTERM stops
// everything and removes the temporary data.
//
//	groq-sandbox [flags] [-- exporter flags...]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

const (
	exporterStopTimeout  = 10 * time.Second
	exporterReadyTimeout = 30 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "groq-sandbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("groq-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: groq-sandbox [flags] [-- exporter flags...]")
		fs.PrintDefaults()
	}
	exporter := fs.String("exporter", "./groq_exporter", `exporter binary to run ("" runs only the Groq stand-in)`)
	exporterAddr := fs.String("exporter.listen-address", "127.0.0.1:10199", "passed to the exporter as --web.listen-address")
	gatewayAddr := fs.String("gateway.listen-address", "127.0.0.1:0", "where the Groq stand-in listens (port 0: any free port)")
	interval := fs.Duration("interval", 15*time.Second, "how often a new round of samples is written")
	history := fs.Duration("history", 10*time.Minute, "how much past data to write at start, for range queries")
	seed := fs.Int64("seed", 1, "seed of the synthetic values")
	models := fs.String("models", strings.Join(groqtest.DefaultModels, ","), "comma-separated models (empty: the defaults)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *interval <= 0 {
		return fmt.Errorf("-interval must be positive")
	}
	var exporterPath string
	if *exporter != "" {
		p, err := exec.LookPath(*exporter)
		if err != nil {
			return fmt.Errorf("exporter binary: %w (build it with: go build -o groq_exporter .)", err)
		}
		exporterPath = p
		// Fail now, not after "is running": an exporter (or another sandbox)
		// already listening there would answer in this one's place.
		ln, err := net.Listen("tcp", *exporterAddr)
		if err != nil {
			return fmt.Errorf("%s is taken, by another exporter or sandbox? Stop it, or choose another port: make run PORT=10299 (groq-sandbox -exporter.listen-address=127.0.0.1:10299): %w", *exporterAddr, err)
		}
		ln.Close()
	}

	vm, err := groqtest.StartVictoriaMetrics()
	if err != nil {
		return err
	}
	defer vm.Stop()

	modelList := strings.FieldsFunc(*models, func(r rune) bool { return r == ',' || r == ' ' })
	loader := groqtest.NewLoader(vm, *seed, modelList...)
	now := groqtest.RoundTime(time.Now())
	var rounds []time.Time
	for t := now; !t.Before(now.Add(-*history)); t = t.Add(-*interval) {
		rounds = append(rounds, t)
	}
	if err := loader.WriteRounds(ctx, rounds...); err != nil {
		return fmt.Errorf("load history: %w", err)
	}

	key, err := demoKey()
	if err != nil {
		return err
	}
	gw, err := groqtest.NewGateway(vm.URL, key)
	if err != nil {
		return err
	}
	srv, err := gw.Start(*gatewayAddr)
	if err != nil {
		return err
	}
	defer srv.Close()

	exited := make(chan error, 1) // stays empty without an exporter
	if exporterPath != "" {
		cmd := groqtest.Command(exporterPath, append([]string{
			"--groq.url=" + srv.BaseURL(),
			"--web.listen-address=" + *exporterAddr,
		}, fs.Args()...)...)
		cmd.Env = append(os.Environ(), "GROQ_API_KEY="+key)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start exporter: %w", err)
		}
		go func() { exited <- cmd.Wait() }()
		defer stopExporter(cmd, exited)
		if err := waitReady(ctx, "http://"+*exporterAddr+"/-/ready", exited); err != nil {
			return err
		}
	}

	printInfo(stdout, exporterPath, *exporterAddr, srv.BaseURL(), key, vm.URL, loader.Models(), *interval)

	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "groq-sandbox: stopping")
			return nil
		case err := <-exited:
			exited <- err // for stopExporter
			if err != nil {
				return fmt.Errorf("exporter exited: %w", err)
			}
			fmt.Fprintln(stdout, "groq-sandbox: the exporter exited; stopping")
			return nil
		case <-tick.C:
			if _, err := loader.WriteNow(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintln(stderr, "groq-sandbox: write round:", err)
			}
		}
	}
}

// waitReady waits until the exporter answers url with 200, so that "is running" is printed only once
// it is; it fails if the exporter exits first.
func waitReady(ctx context.Context, url string, exited chan error) error {
	deadline := time.Now().Add(exporterReadyTimeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			exited <- err // for stopExporter
			return fmt.Errorf("the exporter exited while starting (%v); its log is above", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the exporter did not answer %s within %v", url, exporterReadyTimeout)
		}
	}
}

// stopExporter sends SIGTERM and waits for the exporter to exit, killing it after exporterStopTimeout.
func stopExporter(cmd *exec.Cmd, exited chan error) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(exporterStopTimeout):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// demoKey returns a random key in the shape of a Groq API key.
func demoKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "gsk_sandbox_" + hex.EncodeToString(b), nil
}

func printInfo(w io.Writer, exporter, exporterAddr, groqURL, key, vmURL string, models []string, interval time.Duration) {
	fmt.Fprintln(w, "groq-sandbox is running; Ctrl-C stops everything.")
	if exporter != "" {
		fmt.Fprintf(w, "  exporter metrics:  http://%s/metrics\n", exporterAddr)
		fmt.Fprintf(w, "  exporter status:   http://%s/\n", exporterAddr)
	} else {
		fmt.Fprintf(w, "  run an exporter with: GROQ_API_KEY=%s groq_exporter --groq.url=%s\n", key, groqURL)
	}
	fmt.Fprintf(w, "  Groq stand-in:     %s\n", groqURL)
	fmt.Fprintf(w, "  API key:           %s\n", key)
	fmt.Fprintf(w, "  try:               curl -H 'Authorization: Bearer %s' '%s/api/v1/query?query=requests:rate1m'\n", key, groqURL)
	fmt.Fprintf(w, "  VictoriaMetrics:   %s (the stand-in's backend, no key)\n", vmURL)
	fmt.Fprintf(w, "  models:            %s; a new round every %v\n", strings.Join(models, ", "), interval)
}
