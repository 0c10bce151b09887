package groqtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metricsql"
)

// NewFake returns a Gateway that needs no VictoriaMetrics: it answers from the samples given to SetSeries
// and SetAnswer, accepting keys (any request when there are none). It answers
//
//   - /api/v1/query: with the SetAnswer samples of exactly that expression if there are any; else, if the
//     expression is a series selector (metric name and label matchers, regular expressions anchored as
//     MetricsQL anchors them, "or" groups included), with the SetSeries samples it matches; anything else
//     (functions, aggregations, arithmetic) with a 422 error that says so: the fake evaluates no MetricsQL.
//   - /api/v1/series (match[] selectors, as above), /api/v1/labels and /api/v1/label/<name>/values: from
//     the SetSeries samples.
//   - /api/v1/query_range and /api/v1/status/tsdb: with a 422 error.
//
// Answers have the shape VictoriaMetrics gives them (see EncodeVector); a sample without a Time is stamped
// with the time of the request. Faults, keys and calls work as for any Gateway.
func NewFake(keys ...string) *Gateway {
	g := &Gateway{}
	g.SetKeys(keys...)
	return g
}

// FakeForTest starts a fake Gateway (NewFake) accepting keys on a loopback port, or fails the test; it is
// closed when the test ends.
func FakeForTest(t testing.TB, keys ...string) *GatewayServer {
	t.Helper()
	s, err := NewFake(keys...).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.CloseClientConnections() // a request still hanging in a fault must not hold Close up
		s.Close()
	})
	return s
}

// SetSeries replaces the samples a fake Gateway serves.
func (g *Gateway) SetSeries(samples ...Sample) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.series = slices.Clone(samples)
}

// SetAnswer makes a fake Gateway answer the instant query expr, exactly as written, with samples (none: an
// empty vector), whatever its series: for the queries it cannot evaluate.
func (g *Gateway) SetAnswer(expr string, samples ...Sample) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answers == nil {
		g.answers = map[string][]Sample{}
	}
	g.answers[expr] = append([]Sample{}, samples...)
}

// fromSeries answers a request of a fake Gateway.
func (g *Gateway) fromSeries(r *http.Request, path string) answer {
	g.mu.Lock()
	series, answers := g.series, g.answers
	g.mu.Unlock()
	now := time.Now()
	switch {
	case path == "/api/v1/query":
		expr := r.Form.Get("query")
		if samples, ok := answers[expr]; ok {
			return vectorAnswer(samples, now)
		}
		m, err := parseSelector(expr)
		if err != nil {
			return errorAnswer(http.StatusUnprocessableEntity, err.Error())
		}
		return vectorAnswer(m.filter(series), now)
	case path == "/api/v1/series":
		var sets []map[string]string
		seen := map[string]bool{}
		for _, sel := range r.Form["match[]"] {
			m, err := parseSelector(sel)
			if err != nil {
				return errorAnswer(http.StatusUnprocessableEntity, err.Error())
			}
			for _, s := range m.filter(series) {
				if id := s.Series(); !seen[id] {
					seen[id] = true
					sets = append(sets, s.Labels)
				}
			}
		}
		if len(r.Form["match[]"]) == 0 {
			return errorAnswer(http.StatusBadRequest, "missing match[] argument")
		}
		return successAnswer(sets)
	case path == "/api/v1/labels":
		return successAnswer(labelValues(series, func(s Sample) []string { return slices.Collect(maps.Keys(s.Labels)) }))
	case strings.HasPrefix(path, "/api/v1/label/"):
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/label/"), "/values")
		return successAnswer(labelValues(series, func(s Sample) []string {
			if v, ok := s.Labels[name]; ok {
				return []string{v}
			}
			return nil
		}))
	}
	return errorAnswer(http.StatusUnprocessableEntity, "groqtest's fake Groq serves instant queries, series and labels only, not "+path)
}

// labelValues returns the distinct strings of every sample, sorted.
func labelValues(series []Sample, of func(Sample) []string) []string {
	set := map[string]bool{}
	for _, s := range series {
		for _, v := range of(s) {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func successAnswer(data any) answer {
	b, err := json.Marshal(map[string]any{"status": "success", "data": data})
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, err.Error())
	}
	return answer{http.StatusOK, "application/json", b}
}

func vectorAnswer(samples []Sample, now time.Time) answer {
	stamped := make([]Sample, len(samples))
	for i, s := range samples {
		if s.Time.IsZero() {
			s.Time = now
		}
		stamped[i] = s
	}
	return answer{http.StatusOK, "application/json", EncodeVector(stamped)}
}

// matcher is a parsed series selector: a sample matches if it matches every filter of one group.
type matcher [][]labelFilter

type labelFilter struct {
	label, value string
	re           *regexp.Regexp // for =~ and !~
	negative     bool
}

// parseSelector parses expr, which must be a series selector.
func parseSelector(expr string) (matcher, error) {
	e, err := metricsql.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cannot parse query %q: %w", expr, err)
	}
	me, ok := e.(*metricsql.MetricExpr)
	if !ok {
		return nil, fmt.Errorf("groqtest's fake Groq evaluates series selectors only, not %q: give its answer with SetAnswer", expr)
	}
	var m matcher
	for _, group := range me.LabelFilterss {
		var fs []labelFilter
		for _, lf := range group {
			f := labelFilter{label: lf.Label, value: lf.Value, negative: lf.IsNegative}
			if lf.IsRegexp {
				if f.re, err = regexp.Compile("^(?:" + lf.Value + ")$"); err != nil {
					return nil, fmt.Errorf("query %q: %w", expr, err)
				}
			}
			fs = append(fs, f)
		}
		m = append(m, fs)
	}
	return m, nil
}

func (m matcher) filter(series []Sample) []Sample {
	var out []Sample
	for _, s := range series {
		if m.matches(s.Labels) {
			out = append(out, s)
		}
	}
	return out
}

func (m matcher) matches(labels map[string]string) bool {
	for _, group := range m {
		all := true
		for _, f := range group {
			v := labels[f.label] // a missing label matches as the empty value, as in PromQL
			ok := v == f.value
			if f.re != nil {
				ok = f.re.MatchString(v)
			}
			if ok == f.negative {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// EncodeVector returns a successful instant-query answer with samples, in their order, shaped as
// VictoriaMetrics answers: __name__ first and the other labels sorted, timestamps in seconds with
// millisecond precision, values as strings (NaN, +Inf and -Inf included), isPartial and stats added.
func EncodeVector(samples []Sample) []byte {
	var b strings.Builder
	b.Grow(len(samples) * 120)
	b.WriteString(`{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[`)
	for i, s := range samples {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONSample(&b, s)
	}
	fmt.Fprintf(&b, `]},"stats":{"seriesFetched":"%d","executionTimeMsec":0}}`, len(samples))
	return []byte(b.String())
}

func writeJSONSample(b *strings.Builder, s Sample) {
	b.WriteString(`{"metric":{`)
	first := true
	write := func(k string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(b, k)
		b.WriteByte(':')
		writeJSONString(b, s.Labels[k])
	}
	if _, ok := s.Labels["__name__"]; ok {
		write("__name__")
	}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		write(k)
	}
	b.WriteString(`},"value":[`)
	b.WriteString(strconv.FormatFloat(float64(s.Time.UnixMilli())/1000, 'f', -1, 64))
	b.WriteString(`,"`)
	b.WriteString(formatValue(s.Value))
	b.WriteString(`"]}`)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeJSONString writes s as a JSON string; plain ASCII, the common case, without encoding/json.
func writeJSONString(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			b.Write(q)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}
