package groqtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sample is one element of an instant query's vector result.
type Sample struct {
	Labels map[string]string // all labels, the metric name as __name__
	Value  float64
	Time   time.Time
}

// Name returns the metric name.
func (s Sample) Name() string { return s.Labels["__name__"] }

// String formats the sample as name{label="value",...} value, labels sorted, so results can be compared
// as sets of strings.
func (s Sample) String() string {
	return s.Series() + " " + strconv.FormatFloat(s.Value, 'g', -1, 64)
}

// Series identifies the series: name{label="value",...}, labels sorted.
func (s Sample) Series() string {
	names := make([]string, 0, len(s.Labels))
	for n := range s.Labels {
		if n != "__name__" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(s.Name())
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", n, s.Labels[n])
	}
	b.WriteByte('}')
	return b.String()
}

// instantQuery runs query at the current time against the Prometheus HTTP API below apiURL (the part
// before /api/v1/query), with an Authorization: Bearer header if key is not empty.
func instantQuery(ctx context.Context, apiURL, key, query string) ([]Sample, error) {
	u := apiURL + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("query %q: read response: %w", query, err)
	}
	samples, err := decodeVector(body, resp.StatusCode)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].String() < samples[j].String() })
	return samples, nil
}

// decodeVector decodes an instant query's answer (given with HTTP status code) into its samples.
func decodeVector(body []byte, code int) ([]Sample, error) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("HTTP %d, undecodable body %.200q: %w", code, body, err)
	}
	if code != http.StatusOK || r.Status != "success" {
		return nil, fmt.Errorf("HTTP %d: %s", code, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", r.Data.ResultType)
	}
	samples := make([]Sample, 0, len(r.Data.Result))
	for _, e := range r.Data.Result {
		ts, ok := e.Value[0].(float64)
		vs, ok2 := e.Value[1].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("malformed value %v", e.Value)
		}
		v, err := strconv.ParseFloat(vs, 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", vs, err)
		}
		sec, frac := math.Modf(ts)
		samples = append(samples, Sample{Labels: e.Metric, Value: v, Time: time.Unix(int64(sec), int64(frac*1e9))})
	}
	return samples, nil
}

// RecordedSamples reads a recorded answer of Groq to an instant query (such as
// collector/testdata/all_families.json) and returns its samples in their order, or fails the test: for
// a fake Gateway to serve.
func RecordedSamples(t testing.TB, path string) []Sample {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := decodeVector(body, http.StatusOK)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return samples
}
