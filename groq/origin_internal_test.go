package groq

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestKeyOnlyToItsOrigin: below the redirect policy, the transport itself
// removes an Authorization header from a request for another origin, and
// adds the key to requests for the configured one.
func TestKeyOnlyToItsOrigin(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			seen[name] = append(seen[name], r.Header.Get("Authorization"))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	home, other := record("home"), record("other")
	c, err := New(Config{URL: home.URL, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, u := range []string{home.URL, other.URL} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer gsk_someoneElsesKey")
		resp, err := c.http.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if got := seen["home"]; len(got) != 1 || got[0] != "Bearer "+testKey {
		t.Errorf("configured origin received %q, want the key", got)
	}
	if got := seen["other"]; len(got) != 1 || got[0] != "" {
		t.Errorf("other origin received %q, want no Authorization", got)
	}
}
