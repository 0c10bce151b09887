//go:build integration

package groqtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSquid: a name only squid resolves is reached through it, and its
// access log shows the request.
func TestSquid(t *testing.T) {
	origin := OriginForTest(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(origin.URL, "http://"), ":")
	squid := SquidForTest(t, map[string]string{"groq.test": "127.0.0.1"})
	proxy, _ := url.Parse(squid.URL)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://groq.test:" + port + "/v1/x")
	if err != nil {
		t.Fatalf("%v; squid's log:\n%s", err, squid.Log())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(origin.Authorizations()) != 1 {
		t.Errorf("status %d, %d requests at the origin", resp.StatusCode, len(origin.Authorizations()))
	}
	if !squid.Logged("http://groq.test:" + port + "/v1/x") {
		t.Errorf("access log lacks the request:\n%s", squid.AccessLog())
	}
	if _, err := http.Get("http://groq.test:" + port + "/"); err == nil {
		t.Error("groq.test resolves without the proxy: the tests could not tell that the proxy was used")
	}
}
