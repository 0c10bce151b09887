package groqtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
)

const testKey = "gsk_test_key"

type reply struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+path with the key (none if empty) and returns the answer.
func get(t *testing.T, client *http.Client, base, path, key string) reply {
	t.Helper()
	a, err := tryGet(context.Background(), client, base+path, key)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

func tryGet(ctx context.Context, client *http.Client, u, key string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return reply{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, body}, err
}

// groqError decodes a Groq-style error body or fails the test.
func groqError(t *testing.T, a reply) (errorType string) {
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

// testRequiresKey: a request without the key, with another, or not as a bearer token gets a Groq-style
// 401; a rotated key works at once.
func testRequiresKey(t *testing.T, gw *GatewayServer) {
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
		a := reply{resp.StatusCode, resp.Header, body}
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

// testUnknownPaths: only the API paths Groq offers exist.
func testUnknownPaths(t *testing.T, gw *GatewayServer) {
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

// testFaults: every fault answers as documented, in order, as often as asked, and then the gateway
// answers normally again.
func testFaults(t *testing.T, gw *GatewayServer) {
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

// testConcurrentUse: requests, faults, key changes and reading the calls at once (for the race detector).
func testConcurrentUse(t *testing.T, gw *GatewayServer) {
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

// fakeGateway starts a fake gateway accepting testKey that serves one round of the default models.
func fakeGateway(t *testing.T) *GatewayServer {
	t.Helper()
	gw := FakeForTest(t, testKey)
	gw.SetSeries(NewLoader(nil, 1).Round(RoundTime(time.Now()))...)
	return gw
}

func TestFakeRequiresKey(t *testing.T)     { testRequiresKey(t, fakeGateway(t)) }
func TestFakeUnknownPaths(t *testing.T)    { testUnknownPaths(t, fakeGateway(t)) }
func TestFakeFaults(t *testing.T)          { testFaults(t, fakeGateway(t)) }
func TestFakeConcurrentUse(t *testing.T)   { testConcurrentUse(t, fakeGateway(t)) }
func TestFakeOpenWithoutKeys(t *testing.T) { testOpenWithoutKeys(t, FakeForTest(t)) }

// testOpenWithoutKeys: a gateway without keys answers any request, with or without a key.
func testOpenWithoutKeys(t *testing.T, gw *GatewayServer) {
	for _, key := range []string{"", "gsk_anything"} {
		if a := get(t, http.DefaultClient, gw.BaseURL(), "/api/v1/query?query=requests%3Arate1m", key); a.status != http.StatusOK {
			t.Errorf("key %q: HTTP %d %s", key, a.status, a.body)
		}
	}
}

// queryFake runs query against the fake and returns the answer as sorted sample strings.
func queryFake(t *testing.T, gw *GatewayServer, query string) []string {
	t.Helper()
	samples, err := instantQuery(context.Background(), gw.BaseURL(), testKey, query)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(samples))
	for i, s := range samples {
		out[i] = s.String()
	}
	return out
}

// TestFakeAnswersSelectors: an instant query is answered with the samples its selector matches, by
// name and by label, with =, !=, =~ (anchored) and !~ and with "or" groups; an answer set for an exact
// expression wins; what the fake cannot evaluate is a 422 that says so.
func TestFakeAnswersSelectors(t *testing.T) {
	gw := FakeForTest(t, testKey)
	ts := time.UnixMilli(1764430000123)
	s := func(v float64, labels ...string) Sample {
		m := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		return Sample{Labels: m, Value: v, Time: ts}
	}
	gw.SetSeries(
		s(1, "__name__", "requests:rate1m", "model", "llama", "status_code", "200"),
		s(2, "__name__", "requests:rate1m", "model", "llama", "status_code", "429"),
		s(3, "__name__", "requests:increase1m", "model", "qwen", "status_code", "200"),
		s(math.NaN(), "__name__", "ttft_latency_seconds:p99:rate5m", "model", "llama"),
		s(math.Inf(1), "__name__", "ttft_latency_seconds:0.99:rate5m", "model", "qwen"),
		s(math.Inf(-1), "__name__", "tokens_in:p50:rate5m", "model", "qwen"),
	)
	for query, want := range map[string][]string{
		"requests:rate1m":                        {`requests:rate1m{model="llama",status_code="200"} 1`, `requests:rate1m{model="llama",status_code="429"} 2`},
		`requests:rate1m{status_code!="200"}`:    {`requests:rate1m{model="llama",status_code="429"} 2`},
		`{__name__=~"requests:.*",model="qwen"}`: {`requests:increase1m{model="qwen",status_code="200"} 3`},
		`{__name__=~"requests"}`:                 {}, // anchored
		`{__name__=~"ttft.*",model!~"ll.*"}`:     {`ttft_latency_seconds:0.99:rate5m{model="qwen"} +Inf`},
		`{__name__=~"(tokens_in|ttft_latency_seconds):[^:]+:rate5m",model="llama"}`: {`ttft_latency_seconds:p99:rate5m{model="llama"} NaN`},
		`{__name__="tokens_in:p50:rate5m" or __name__="requests:rate1m",status_code="429"}`: {
			`requests:rate1m{model="llama",status_code="429"} 2`, `tokens_in:p50:rate5m{model="qwen"} -Inf`},
		`{status_code=""}`: {`tokens_in:p50:rate5m{model="qwen"} -Inf`, `ttft_latency_seconds:0.99:rate5m{model="qwen"} +Inf`,
			`ttft_latency_seconds:p99:rate5m{model="llama"} NaN`}, // a missing label is empty
	} {
		got := queryFake(t, gw, query)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", query, got, want)
		}
	}

	const ratio = `sum by (model) (requests:rate1m{status_code!~"2.."}) / sum by (model) (requests:rate1m)`
	a := get(t, http.DefaultClient, gw.BaseURL(), "/api/v1/query?"+url.Values{"query": {ratio}}.Encode(), testKey)
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(string(a.body), "SetAnswer") {
		t.Errorf("aggregation without an answer: HTTP %d %s, want 422 naming SetAnswer", a.status, a.body)
	}
	groqError(t, a)
	gw.SetAnswer(ratio, s(0.5, "model", "llama"))
	gw.SetAnswer("requests:rate1m") // an exact answer wins over the series, even an empty one
	if got := queryFake(t, gw, ratio); !slices.Equal(got, []string{`{model="llama"} 0.5`}) {
		t.Errorf("with an answer set: %q", got)
	}
	if got := queryFake(t, gw, "requests:rate1m"); len(got) != 0 {
		t.Errorf("empty answer set, got %q", got)
	}
	if a := get(t, http.DefaultClient, gw.BaseURL(), "/api/v1/query?query=sum(", testKey); a.status != http.StatusUnprocessableEntity {
		t.Errorf("unparsable query: HTTP %d %s", a.status, a.body)
	}

	// A sample without a time is stamped with the time of the request.
	gw.SetSeries(Sample{Labels: map[string]string{"__name__": "up"}, Value: 1})
	before := time.Now().Truncate(time.Millisecond)
	samples, err := instantQuery(context.Background(), gw.BaseURL(), testKey, "up")
	if err != nil || len(samples) != 1 || samples[0].Time.Round(time.Millisecond).Before(before) || samples[0].Time.After(time.Now()) {
		t.Errorf("unstamped sample answered as %v, %v; want stamped after %v", samples, err, before)
	}
}

// TestFakeMetadataEndpoints: series, labels and label values come from the series; the range query and
// the TSDB status are refused.
func TestFakeMetadataEndpoints(t *testing.T) {
	gw := fakeGateway(t)
	data := func(path string) string {
		t.Helper()
		a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		var r struct {
			Status string
			Data   json.RawMessage
		}
		if err := json.Unmarshal(a.body, &r); a.status != http.StatusOK || err != nil || r.Status != "success" {
			t.Fatalf("%s: HTTP %d %.300s", path, a.status, a.body)
		}
		return string(r.Data)
	}
	names := data("/api/v1/label/__name__/values")
	for _, name := range SeriesNames() {
		if !strings.Contains(names, `"`+name+`"`) {
			t.Errorf("label values %s lack %s", names, name)
		}
	}
	if models := data("/api/v1/label/model/values"); models != `["llama-3.1-8b-instant","llama-3.3-70b-versatile","openai/gpt-oss-120b"]` {
		t.Errorf("model values %s", models)
	}
	if labels := data("/api/v1/labels"); labels != `["__name__","model","status_code"]` {
		t.Errorf("labels %s", labels)
	}
	var series []map[string]string
	if err := json.Unmarshal([]byte(data("/api/v1/series?"+url.Values{"match[]": {`{__name__=~"requests:.*",model="openai/gpt-oss-120b"}`}}.Encode())), &series); err != nil {
		t.Fatal(err)
	}
	if len(series) != 2*len(StatusCodes) {
		t.Errorf("series of one model's request families: %v", series)
	}
	for _, path := range []string{"/api/v1/query_range?query=up&start=1&end=2&step=1", "/api/v1/status/tsdb", "/api/v1/series"} {
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status/100 != 4 {
			t.Errorf("%s: HTTP %d %s, want a 4xx error", path, a.status, a.body)
		} else {
			groqError(t, a)
		}
	}
}

// TestFakeServesDocumentedSeries: a Loader's round and VectorSamples hold every series name the
// collector documents, and a fake serves them to the exporter's own selector.
func TestFakeServesDocumentedSeries(t *testing.T) {
	var want []string
	for _, u := range collector.DocumentedSeries() {
		if u.Percentile {
			for _, p := range Percentiles {
				want = append(want, u.Series(p))
			}
		} else {
			want = append(want, u.Base)
		}
	}
	if got := SeriesNames(); !slices.Equal(got, want) || len(got) != 17 {
		t.Errorf("SeriesNames() = %q, want %q", got, want)
	}
	for name, samples := range map[string][]Sample{"a round": NewLoader(nil, 1).Round(time.Now()), "VectorSamples": VectorSamples(PerModel * 3)} {
		seen := map[string]int{}
		for _, s := range samples {
			seen[s.Name()]++
		}
		for _, n := range want {
			if seen[n] == 0 {
				t.Errorf("%s lacks %s", name, n)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("%s has names %v, want only %q", name, seen, want)
		}
	}
	gw := fakeGateway(t)
	const selector = `{__name__=~"requests:(increase1m|rate1m)|(e2e_latency_seconds|queue_latency_seconds|tokens_in|tokens_out|ttft_latency_seconds):[^:]+:rate5m"}`
	if want := len(DefaultModels) * perModel(StatusCodes); len(queryFake(t, gw, selector)) != want {
		t.Errorf("the built-in selector got %d series, want %d", len(queryFake(t, gw, selector)), want)
	}
}

// TestFakeFaultAnswers: the faults that replace the answer: verbatim bodies with headers, echoes of the
// credential, endless and trickling bodies, hangs, faults for one query only; and what the calls record.
func TestFakeFaultAnswers(t *testing.T) {
	gw := fakeGateway(t)
	const path = "/api/v1/query?query=requests%3Arate1m"

	t.Run("text with headers", func(t *testing.T) {
		gw.Inject(Fault{Times: 1, Status: 502, Text: "<html>down</html>", Header: map[string]string{"Content-Type": "text/html"}, RetryAfter: "2"},
			Fault{Times: 1, Text: `{"status":"success","data":{"resultType":"matrix","result":[]}}`})
		a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		if a.status != 502 || string(a.body) != "<html>down</html>" || a.header.Get("Content-Type") != "text/html" || a.header.Get("Retry-After") != "2" {
			t.Errorf("HTTP %d %q %v", a.status, a.body, a.header)
		}
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 200 || !strings.Contains(string(a.body), "matrix") {
			t.Errorf("text without status: HTTP %d %q", a.status, a.body)
		}
	})

	t.Run("echo", func(t *testing.T) {
		gw.Inject(Fault{Times: 1, Status: 401, Echo: true, Text: `{"error":"${authorization} / ${key} / ${key#gsk_}"}`,
			Header: map[string]string{"Content-Type": "text/html; token=${key}"}})
		a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
		if want := `{"error":"Bearer gsk_test_key / gsk_test_key / test_key"}`; a.status != 401 || string(a.body) != want ||
			a.header.Get("Content-Type") != "text/html; token=gsk_test_key" {
			t.Errorf("HTTP %d %q %v, want 401 %s", a.status, a.body, a.header, want)
		}
	})

	t.Run("endless", func(t *testing.T) {
		for _, cl := range []bool{true, false} {
			const size = 1<<20 + 3
			gw.Inject(Fault{Times: 1, Endless: size, ContentLength: cl})
			a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey)
			if a.status != 200 || len(a.body) != size || !strings.HasPrefix(string(a.body), vectorHead) || (a.header.Get("Content-Length") != "") != cl {
				t.Errorf("Content-Length %v: HTTP %d, %d bytes, header %q", cl, a.status, len(a.body), a.header.Get("Content-Length"))
			}
			if calls := gw.Calls(); calls[len(calls)-1].Written != size {
				t.Errorf("Written = %d, want %d", calls[len(calls)-1].Written, size)
			}
		}
	})

	t.Run("trickle and hang", func(t *testing.T) {
		for _, f := range []Fault{{Times: 1, Trickle: 10 * time.Millisecond}, {Times: 1, Hang: true}} {
			gw.Inject(f)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			a, err := tryGet(ctx, http.DefaultClient, gw.BaseURL()+path, testKey)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%+v: HTTP %d %q, %v; want the client's deadline", f, a.status, a.body, err)
			}
			if f.Trickle > 0 && !strings.HasPrefix(string(a.body), vectorHead+" ") {
				t.Errorf("trickle sent %q before the deadline", a.body)
			}
		}
	})

	t.Run("block", func(t *testing.T) {
		release := make(chan struct{})
		gw.Inject(Fault{Times: 1, Block: release})
		n := gw.Requests()
		done := make(chan reply, 1)
		go func() {
			a, _ := tryGet(context.Background(), http.DefaultClient, gw.BaseURL()+path, testKey)
			done <- a
		}()
		for gw.Requests() == n { // wait for the blocked request to arrive
			time.Sleep(time.Millisecond)
		}
		select {
		case a := <-done:
			t.Fatalf("answered (HTTP %d) before the release", a.status)
		default:
		}
		close(release)
		if a := <-done; a.status != http.StatusOK {
			t.Errorf("after the release: HTTP %d %s", a.status, a.body)
		}
	})

	t.Run("one query only", func(t *testing.T) {
		gw.Inject(Fault{Query: "requests:increase1m", Status: 503})
		defer gw.ClearFaults()
		if a := get(t, http.DefaultClient, gw.BaseURL(), path, testKey); a.status != 200 {
			t.Errorf("another query: HTTP %d", a.status)
		}
		for range 2 {
			if a := get(t, http.DefaultClient, gw.BaseURL(), "/api/v1/query?query=requests%3Aincrease1m", testKey); a.status != 503 {
				t.Errorf("the query of the fault: HTTP %d", a.status)
			}
		}
		if n := gw.CallsFor("requests:increase1m"); n != 2 {
			t.Errorf("CallsFor = %d, want 2", n)
		}
	})

	before := time.Now()
	get(t, http.DefaultClient, gw.BaseURL(), path, "gsk_recorded")
	last := gw.Calls()[gw.Requests()-1]
	if last.Header.Get("Authorization") != "Bearer gsk_recorded" || last.Query() != "requests:rate1m" || last.Time.Before(before) || last.Written == 0 {
		t.Errorf("last call recorded as %+v", last)
	}
}

// TestVectorDecodes: the synthetic answers decode as the exporter's client decodes Groq's.
func TestVectorDecodes(t *testing.T) {
	for _, n := range []int{0, 1, PerModel, 10000} {
		samples, err := groq.DecodeVector(strings.NewReader(string(Vector(n))))
		if err != nil || len(samples) != n {
			t.Fatalf("Vector(%d): %d samples, %v", n, len(samples), err)
		}
	}
	odd := []Sample{{Labels: map[string]string{"__name__": "x", "é": "\"\\\n\x00"}, Value: math.Inf(-1)}}
	samples, err := groq.DecodeVector(strings.NewReader(string(EncodeVector(odd))))
	if err != nil || len(samples) != 1 || samples[0].Labels.Get("é") != "\"\\\n\x00" || !math.IsInf(samples[0].Value, -1) {
		t.Errorf("EncodeVector(%v) decodes as %v, %v", odd, samples, err)
	}
}

func TestEndless(t *testing.T) {
	for _, size := range []int64{0, 10, 64 << 10, 1<<20 + 7} {
		n, err := io.Copy(io.Discard, Endless(size))
		if err != nil || n != size {
			t.Errorf("Endless(%d) gave %d bytes, %v", size, n, err)
		}
	}
	// It decodes as far as it goes, and is cut off as truncated JSON.
	_, err := groq.DecodeVector(Endless(1 << 20))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("decoding Endless: %v, want unexpected EOF", err)
	}
}

// TestRecordedSamples: a recorded answer reads back as its samples, in order, values and labels kept.
func TestRecordedSamples(t *testing.T) {
	samples := RecordedSamples(t, "../../collector/testdata/all_families.json")
	if len(samples) != 42 {
		t.Fatalf("%d samples, want the 42 of the file", len(samples))
	}
	if first := samples[0]; first.String() != `requests:rate1m{model="llama-3.3-70b-versatile",status_code="200"} 12.5` ||
		!first.Time.Equal(time.Unix(1764430000, 0)) {
		t.Errorf("first sample %v at %v", first, first.Time)
	}
}
