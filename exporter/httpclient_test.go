package exporter

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	commonconfig "github.com/prometheus/common/config"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestTLSFilesReadWithoutBlocking: prometheus/common reads the tls_config's
// files for every request; the exporter hands them to it as references it
// reads itself, so that even past the check made before each request (a
// file swapped in between), a CA file that is a FIFO fails the request at
// once, naming the file, instead of waiting for a writer for ever.
func TestTLSFilesReadWithoutBlocking(t *testing.T) {
	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	g := groqtest.NewFake("gsk_tlsRefsKey0123")
	srv, err := g.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	cfg := commonconfig.DefaultHTTPClientConfig
	cfg.TLSConfig.CAFile = caFile
	hc, pending, err := newHTTPClient(&cfg)
	if err != nil || pending != nil {
		t.Fatalf("newHTTPClient: %v, %v", pending, err)
	}
	tf := hc.Transport.(*tlsFiles)
	roundTrip := func() error {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.BaseURL()+"/api/v1/query?query=up", nil)
			resp, err := tf.rt.RoundTrip(req) // prometheus/common's, past the check
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the request has not returned after 10 s: it waits on the CA file")
			return nil
		}
	}
	if err := roundTrip(); err != nil {
		t.Fatalf("with a good CA file: %v", err)
	}
	if err := os.Remove(caFile); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(caFile, 0o600); err != nil {
		t.Fatal(err)
	}
	err = roundTrip()
	var ferr *TLSFileError
	if !errors.As(err, &ferr) || !errors.Is(err, groq.ErrTLSFile) || ferr.Field != "ca_file" ||
		!strings.Contains(err.Error(), caFile+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("with a FIFO CA file: %v, want a TLSFileError naming it", err)
	}
	os.Remove(caFile)
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(); err != nil {
		t.Errorf("with the CA file back: %v", err)
	}
}
