package groqtest

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
)

// TestGatewayTLS: a Gateway served with a certificate of a test CA is trusted
// by a client that has the CA, under the name the certificate holds, and by
// no other client.
func TestGatewayTLS(t *testing.T) {
	ca := CAForTest(t)
	cert, err := ca.Issue("groq.test")
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGateway("http://127.0.0.1:1", "gsk_k")
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	get := func(cfg *tls.Config) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(s.BaseURL() + "/api/v1/nope")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(&tls.Config{RootCAs: ca.Pool(), ServerName: "groq.test"}); err != nil {
		t.Errorf("with the CA, as groq.test: %v", err)
	}
	if err := get(&tls.Config{ServerName: "groq.test"}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("without the CA: %v, want unknown authority", err)
	}
	if err := get(&tls.Config{RootCAs: ca.Pool()}); err == nil {
		t.Error("as 127.0.0.1: no error, want a name mismatch")
	}
}
