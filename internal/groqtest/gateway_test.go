package groqtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const testKey = "gsk_test_key"

// loadedGateway starts VictoriaMetrics with one round of the default models and a gateway accepting testKey.
func loadedGateway(t *testing.T) (*VictoriaMetrics, *GatewayServer) {
	t.Helper()
	vm := VictoriaMetricsForTest(t)
	if _, err := NewLoader(vm, 1).WriteNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	return vm, GatewayForTest(t, vm, testKey)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+path with the key (none if empty) and returns the answer.
func get(t *testing.T, client *http.Client, base, path, key string) answer {
	t.Helper()
	a, err := tryGet(context.Background(), client, base+path, key)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

func tryGet(ctx context.Context, client *http.Client, u, key string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, body}, err
}

// groqError decodes a Groq-style error body or fails the test.
func groqError(t *testing.T, a answer) (errorType string) {
	t.Helper()
	var e struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal(a.body, &e); err != nil || e.Status != "error" || e.Error == "" {
		t.Fatalf("HTTP %d body %q is not a Groq-style error (%v)", a.status, a.body, err)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
	return e.ErrorType
}

func TestGatewayAnswersLikeVictoriaMetrics(t *testing.T) {
	ctx := context.Background()
	vm, gw := loadedGateway(t)
	for _, q := range []string{"requests:rate1m", "e2e_latency_seconds:p99:rate5m", `tokens_out:p50:rate5m{model="openai/gpt-oss-120b"}`} {
		direct, err := vm.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		viaGateway, err := instantQuery(ctx, gw.BaseURL(), testKey, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(direct) == 0 || !slices.EqualFunc(direct, viaGateway, func(a, b Sample) bool { return a.String() == b.String() }) {
			t.Errorf("%s: gateway answered %v, VictoriaMetrics %v", q, viaGateway, direct)
		}
	}

	end := time.Now().Unix()
	for _, path := range []string{
		"/api/v1/query_range?" + url.Values{"query": {"requests:increase1m"}, "start": {strconv.FormatInt(end-300, 10)}, "end": {strconv.FormatInt(end, 10)}, "step": {"15"}}.Encode(),
		"/api/v1/series?" + url.Values{"match[]": {`{__name__=~"requests:.*"}`}}.Encode(),
		"/api/v1/labels",
		"/api/v1/label/__name__/values",
		"/api/v1/label/model/values",
		"/api/v1/status/tsdb",
	} {
		a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		var r struct {
			Status string
			Data   json.RawMessage
		}
		if err := json.Unmarshal(a.body, &r); a.status != http.StatusOK || err != nil || r.Status != "success" {
			t.Errorf("%s: HTTP %d %.300s", path, a.status, a.body)
		}
		switch {
		case strings.HasPrefix(path, "/api/v1/label/__name__/"):
			for _, name := range SeriesNames() {
				if !strings.Contains(string(r.Data), `"`+name+`"`) {
					t.Errorf("label values %s lack %s", r.Data, name)
				}
			}
		case strings.HasPrefix(path, "/api/v1/label/model/"):
			for _, m := range DefaultModels {
				if !strings.Contains(string(r.Data), `"`+m+`"`) {
					t.Errorf("label values %s lack %s", r.Data, m)
				}
			}
		}
	}

	resp, err := http.PostForm(gw.BaseURL()+"/api/v1/query", url.Values{"query": {"requests:rate1m"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without key: HTTP %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, gw.BaseURL()+"/api/v1/query", strings.NewReader("query=requests%3Arate1m"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"requests:rate1m"`) {
		t.Errorf("POST query: HTTP %d %.300s", resp.StatusCode, body)
	}
	calls := gw.Calls()
	if last := calls[len(calls)-1]; last.Method != http.MethodPost || last.Path != "/api/v1/query" || last.Form.Get("query") != "requests:rate1m" {
		t.Errorf("last call recorded as %+v", last)
	}
}

func TestGatewayRequiresKey(t *testing.T) {
	_, gw := loadedGateway(t)
	const path = "/api/v1/query?query=requests%3Arate1m"
	for _, c := range []struct{ name, header string }{
		{"no header", ""},
		{"wrong key", "Bearer gsk_wrong"},
		{"not bearer", "Basic " + testKey},
		{"empty bearer", "Bearer "},
	} {
		req, _ := http.NewRequest(http.MethodGet, gw.BaseURL()+path, nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := answer{resp.StatusCode, resp.Header, body}
		if a.status != http.StatusUnauthorized || groqError(t, a) != "unauthorized" {
			t.Errorf("%s: HTTP %d %s, want 401 unauthorized", c.name, a.status, a.body)
		}
	}

	// Key rotation: the old key stops working, the new one works, without restarting anything.
	gw.SetKeys("gsk_new")
	if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != http.StatusUnauthorized {
		t.Errorf("old key after rotation: HTTP %d", a.status)
	}
	if a := get(t, http.DefaultClient, gw.BaseURL(), path, "gsk_new"); a.status != http.StatusOK {
		t.Errorf("new key after rotation: HTTP %d %s", a.status, a.body)
	}
}

func TestGatewayUnknownPaths(t *testing.T) {
	_, gw := loadedGateway(t)
	for _, p := range []string{
		"/", "/metrics", "/api/v1/query?query=up",
		GatewayPrefix, GatewayPrefix + "/federate", GatewayPrefix + "/api/v1/write", GatewayPrefix + "/api/v1/export",
		GatewayPrefix + "/api/v1/label/model", GatewayPrefix + "/api/v1/status/top_queries",
	} {
		a := get(t, http.DefaultClient, gw.URL, p, testKey)
		if a.status != http.StatusNotFound || groqError(t, a) != "not_found" {
			t.Errorf("%s: HTTP %d %s, want 404 not_found", p, a.status, a.body)
		}
	}
}

func TestGatewayFaults(t *testing.T) {
	_, gw := loadedGateway(t)
	const path = "/api/v1/query?query=requests%3Arate1m"
	ok := func(t *testing.T) {
		t.Helper()
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != http.StatusOK {
			t.Fatalf("after the fault: HTTP %d %s", a.status, a.body)
		}
	}

	t.Run("rate limited twice", func(t *testing.T) {
		gw.Inject(Fault{Times: 2, Status: http.StatusTooManyRequests, RetryAfter: "1"})
		before := gw.Requests()
		for i := 0; i < 2; i++ {
			a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
			if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" || groqError(t, a) != "too_many_requests" {
				t.Fatalf("request %d: HTTP %d Retry-After %q %s", i, a.status, a.header.Get("Retry-After"), a.body)
			}
		}
		ok(t)
		if n := gw.Requests() - before; n != 3 {
			t.Errorf("Requests() grew by %d, want 3", n)
		}
	})

	t.Run("server errors in order", func(t *testing.T) {
		gw.Inject(Fault{Times: 1, Status: 500}, Fault{Times: 1, Status: 502}, Fault{Times: 1, Status: 503})
		for _, want := range []int{500, 502, 503} {
			a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
			if a.status != want {
				t.Fatalf("HTTP %d, want %d", a.status, want)
			}
			groqError(t, a)
		}
		ok(t)
	})

	t.Run("bodies", func(t *testing.T) {
		gw.Inject(
			Fault{Times: 1, Status: 502, Body: HTMLPage},
			Fault{Times: 1, Status: 503, Body: PlainText},
			Fault{Times: 1, Status: 504, Body: EmptyBody},
		)
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 502 ||
			!strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.HasPrefix(string(a.body), "<html>") {
			t.Errorf("HTML page: HTTP %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
		}
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 503 || string(a.body) != "503 Service Unavailable\n" {
			t.Errorf("plain text: HTTP %d %q", a.status, a.body)
		}
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 504 || len(a.body) != 0 {
			t.Errorf("empty body: HTTP %d %q", a.status, a.body)
		}
		ok(t)
	})

	t.Run("truncated JSON", func(t *testing.T) {
		full := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		gw.Inject(Fault{Times: 1, Truncate: true})
		a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		var v any
		if a.status != http.StatusOK || json.Unmarshal(a.body, &v) == nil || len(a.body) == 0 ||
			!strings.HasPrefix(string(full.body), string(a.body)) {
			t.Errorf("truncated: HTTP %d %q, want 200 with the first half of %q", a.status, a.body, full.body)
		}
		ok(t)
	})

	t.Run("hangup", func(t *testing.T) {
		// On a fresh connection the client sees the hangup.
		gw.Inject(Fault{Times: 1, Hangup: true})
		if a, err := tryGet(context.Background(), &http.Client{Transport: &http.Transport{}}, gw.BaseURL()+path, testKey); !errors.Is(err, io.EOF) {
			t.Fatalf("hangup: HTTP %d, err = %v, want EOF", a.status, err)
		}
		// On a reused connection Go retries once by itself: one hangup goes unnoticed, two do not.
		client := &http.Client{Transport: &http.Transport{}}
		get(t, client, gw.BaseURL(), path, testKey)
		gw.Inject(Fault{Times: 1, Hangup: true})
		before := gw.Requests()
		if a := get(t, client, gw.BaseURL(), path, testKey); a.status != http.StatusOK || gw.Requests()-before != 2 {
			t.Fatalf("one hangup on a reused connection: HTTP %d after %d requests, want 200 after 2", a.status, gw.Requests()-before)
		}
		gw.Inject(Fault{Times: 2, Hangup: true})
		if a, err := tryGet(context.Background(), client, gw.BaseURL()+path, testKey); !errors.Is(err, io.EOF) {
			t.Fatalf("two hangups on a reused connection: HTTP %d, err = %v, want EOF", a.status, err)
		}
		ok(t)
	})

	t.Run("delay", func(t *testing.T) {
		// A short delay still answers; a long one outlasts the client, which gives up.
		gw.Inject(Fault{Times: 1, Delay: 50 * time.Millisecond}, Fault{Times: 1, Delay: time.Hour})
		ok(t)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if _, err := tryGet(ctx, http.DefaultClient, gw.BaseURL()+path, testKey); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("delayed request: err = %v, want deadline exceeded", err)
		}
		ok(t)
	})

	t.Run("sticky until cleared", func(t *testing.T) {
		gw.Inject(Fault{Status: 503})
		for i := 0; i < 3; i++ {
			if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 503 {
				t.Fatalf("request %d: HTTP %d", i, a.status)
			}
		}
		gw.ClearFaults()
		ok(t)
	})

	t.Run("down and up", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{}} // keeps its connection open across requests
		get(t, client, gw.BaseURL(), path, testKey)
		gw.Down()
		_, err := tryGet(context.Background(), client, gw.BaseURL()+path, testKey)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("while down: err = %v, want connection refused", err)
		}
		if err := gw.Up(); err != nil {
			t.Fatal(err)
		}
		if a := get(t, client, gw.BaseURL(), path, testKey); a.status != http.StatusOK {
			t.Fatalf("after Up: HTTP %d", a.status)
		}
	})
}

func TestGatewayConcurrentUse(t *testing.T) {
	_, gw := loadedGateway(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				a, err := tryGet(context.Background(), http.DefaultClient, gw.BaseURL()+"/api/v1/query?query=requests%3Arate1m", testKey)
				if err != nil || (a.status != 200 && a.status != 429 && a.status != 401) {
					t.Errorf("HTTP %d %v", a.status, err)
				}
			}
		}()
	}
	for j := 0; j < 20; j++ {
		gw.Inject(Fault{Times: 1, Status: http.StatusTooManyRequests})
		gw.SetKeys(testKey, "gsk_other")
		_ = gw.Calls()
	}
	wg.Wait()
	if n := gw.Requests(); n != 80 {
		t.Errorf("Requests() = %d, want 80", n)
	}
}
