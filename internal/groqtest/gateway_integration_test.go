//go:build integration

package groqtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Gateway in front of a real VictoriaMetrics: it answers as VictoriaMetrics does, and the key checks
// and faults that the fake's tests (gateway_test.go) check work the same in front of it.

// loadedGateway starts VictoriaMetrics with one round of the default models and a gateway accepting testKey.
func loadedGateway(t *testing.T) (*VictoriaMetrics, *GatewayServer) {
	t.Helper()
	vm := VictoriaMetricsForTest(t)
	if _, err := NewLoader(vm, 1).WriteNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	return vm, GatewayForTest(t, vm, testKey)
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
	testRequiresKey(t, gw)
}

func TestGatewayUnknownPaths(t *testing.T) {
	_, gw := loadedGateway(t)
	testUnknownPaths(t, gw)
}

func TestGatewayFaults(t *testing.T) {
	_, gw := loadedGateway(t)
	testFaults(t, gw)
}

func TestGatewayConcurrentUse(t *testing.T) {
	_, gw := loadedGateway(t)
	testConcurrentUse(t, gw)
}
