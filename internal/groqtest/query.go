package groqtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
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
		return nil, fmt.Errorf("query %q: HTTP %d, undecodable body %.200q: %w", query, resp.StatusCode, body, err)
	}
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		return nil, fmt.Errorf("query %q: HTTP %d: %s", query, resp.StatusCode, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %q, want vector", query, r.Data.ResultType)
	}
	samples := make([]Sample, 0, len(r.Data.Result))
	for _, e := range r.Data.Result {
		ts, ok := e.Value[0].(float64)
		vs, ok2 := e.Value[1].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("query %q: malformed value %v", query, e.Value)
		}
		v, err := strconv.ParseFloat(vs, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %q: %w", query, vs, err)
		}
		sec, frac := math.Modf(ts)
		samples = append(samples, Sample{Labels: e.Metric, Value: v, Time: time.Unix(int64(sec), int64(frac*1e9))})
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].String() < samples[j].String() })
	return samples, nil
}
