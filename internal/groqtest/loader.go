package groqtest

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
)

// DefaultModels are the models a Loader writes when it is given none.
var DefaultModels = []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-120b"}

// StatusCodes are the status_code label values of the request series.
var StatusCodes = []string{"200", "400", "429", "500"}

// Percentiles are the percentile spellings inside the latency and token series names.
var Percentiles = []string{"p50", "p95", "p99"}

// requestBase is the typical number of requests per minute with each status code for an average model.
var requestBase = map[string]float64{"200": 300, "400": 6, "429": 12, "500": 1.5}

// A profile is how the values of a percentile family look: p50 is the typical median for an average model;
// decimals is how values are rounded.
type profile struct {
	p50      float64
	decimals int
}

// profiles gives the percentile families of collector.DocumentedSeries their values; a family without one
// gets defaultProfile.
var profiles = map[string]profile{
	"e2e_latency_seconds":   {0.8, 4},
	"ttft_latency_seconds":  {0.15, 4},
	"queue_latency_seconds": {0.02, 4},
	"tokens_in":             {450, 1},
	"tokens_out":            {220, 1},
}

var defaultProfile = profile{1, 4}

func profileOf(base string) profile {
	if p, ok := profiles[base]; ok {
		return p
	}
	return defaultProfile
}

// SeriesNames returns the Groq series names the Loader writes: collector.DocumentedSeries, with the
// percentile families spelled with Percentiles.
func SeriesNames() []string {
	var names []string
	for _, u := range collector.DocumentedSeries() {
		if !u.Percentile {
			names = append(names, u.Base)
			continue
		}
		for _, p := range Percentiles {
			names = append(names, u.Series(p))
		}
	}
	return names
}

// Loader writes synthetic Groq-shaped series into VictoriaMetrics: for every model, the series of
// collector.DocumentedSeries: requests:increase1m and requests:rate1m per status code, and the p50/p95/p99
// series of e2e, ttft and queue latency (seconds) and of tokens in and out. Values are a pure function of the seed, the series and the timestamp: they
// drift slowly (a 10-minute wave) with a little noise, p50 < p95 < p99, and rate1m = increase1m / 60.
// It is safe for concurrent use.
type Loader struct {
	vm   *VictoriaMetrics
	seed int64

	mu     sync.Mutex
	models []string
}

// NewLoader returns a Loader writing into vm the series of models (DefaultModels if none).
func NewLoader(vm *VictoriaMetrics, seed int64, models ...string) *Loader {
	if len(models) == 0 {
		models = DefaultModels
	}
	return &Loader{vm: vm, seed: seed, models: slices.Clone(models)}
}

// Models returns the models currently written.
func (l *Loader) Models() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.models)
}

// AddModel makes later rounds include model.
func (l *Loader) AddModel(model string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.models, model) {
		l.models = append(l.models, model)
	}
}

// RemoveModel stops writing model and deletes every series with that model label from VictoriaMetrics,
// so it vanishes from query results at once, as a model Groq retires does.
func (l *Loader) RemoveModel(ctx context.Context, model string) error {
	l.mu.Lock()
	l.models = slices.DeleteFunc(l.models, func(m string) bool { return m == model })
	l.mu.Unlock()
	return l.vm.DeleteSeries(ctx, "{model="+strconv.Quote(model)+"}")
}

// RoundTime is the timestamp WriteNow uses for a round written at now: the start of the previous second,
// the newest timestamp that an instant query at now is sure to return.
func RoundTime(now time.Time) time.Time {
	return now.Truncate(time.Second).Add(-time.Second)
}

// WriteNow writes one round at RoundTime(time.Now()) and flushes it, so the round is what an instant query
// returns from now on. It returns the round's timestamp.
func (l *Loader) WriteNow(ctx context.Context) (time.Time, error) {
	t := RoundTime(time.Now())
	return t, l.WriteRounds(ctx, t)
}

// WriteRounds writes one round of every current model's series per timestamp (millisecond resolution,
// older ones for history) and flushes them so they are queryable when it returns.
func (l *Loader) WriteRounds(ctx context.Context, times ...time.Time) error {
	var b bytes.Buffer
	for _, t := range times {
		for _, s := range l.Round(t) {
			writeSample(&b, s)
		}
	}
	if err := l.vm.Import(ctx, b.Bytes()); err != nil {
		return err
	}
	return l.vm.Flush(ctx)
}

// Round returns the samples a round at t consists of, for predicting what VictoriaMetrics answers, or for
// a fake Gateway to serve (a Loader made with a nil VictoriaMetrics can only do this).
func (l *Loader) Round(t time.Time) []Sample {
	t = time.UnixMilli(t.UnixMilli())
	names := collector.DocumentedSeries()
	var out []Sample
	for _, model := range l.Models() {
		scale := 0.5 + 1.5*l.unit("scale", model) // how big and slow this model is, 0.5 to 2
		for _, code := range StatusCodes {
			increase := math.Round(requestBase[code] * scale * l.drift(t, "requests", model, code))
			labels := map[string]string{"model": model, "status_code": code}
			for _, u := range names {
				switch {
				case u.Percentile:
				case strings.HasSuffix(u.Base, "rate1m"): // per second
					out = append(out, sample(u.Base, labels, round(increase/60, 4), t))
				default: // per minute
					out = append(out, sample(u.Base, labels, increase, t))
				}
			}
		}
		for _, u := range names {
			if !u.Percentile {
				continue
			}
			f := profileOf(u.Base)
			// One drift per model and family, so the percentiles move together and keep their order: the
			// spreads (p95 at least 1.8 × p50, p99 at least 1.3 × p95) are far wider than the ±5% noise.
			v := f.p50 * scale * l.drift(t, u.Base, model, "")
			spread := []float64{1, 1.8 + 0.4*l.unit("spread", u.Base, "p95", model), 1.3 + 0.3*l.unit("spread", u.Base, "p99", model)}
			for i, p := range Percentiles {
				v *= spread[i]
				noisy := v * (1 + 0.05*(2*l.unit("noise", u.Base, p, model, t.UnixMilli())-1))
				out = append(out, sample(u.Series(p), map[string]string{"model": model}, round(noisy, f.decimals), t))
			}
		}
	}
	return out
}

// drift is a factor between 0.75 and 1.25 that follows a 10-minute wave with a phase per series; request
// series add ±5% noise per timestamp.
func (l *Loader) drift(t time.Time, family, model, code string) float64 {
	phase := 2 * math.Pi * l.unit("phase", family, code, model)
	wave := 1 + 0.2*math.Sin(2*math.Pi*float64(t.UnixMilli())/600e3+phase)
	if code != "" {
		wave *= 1 + 0.05*(2*l.unit("noise", family, code, model, t.UnixMilli())-1)
	}
	return wave
}

// unit returns a number in [0, 1) determined by the seed and parts.
func (l *Loader) unit(parts ...any) float64 {
	h := fnv.New64a()
	fmt.Fprint(h, l.seed)
	for _, p := range parts {
		fmt.Fprint(h, "\x00", p)
	}
	x := h.Sum64() // FNV alone barely changes its high bits for inputs that differ in the last byte
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func sample(name string, labels map[string]string, v float64, t time.Time) Sample {
	all := map[string]string{"__name__": name}
	for k, val := range labels {
		all[k] = val
	}
	return Sample{Labels: all, Value: v, Time: t}
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// writeSample writes s as a Prometheus text format line with a millisecond timestamp.
func writeSample(b *bytes.Buffer, s Sample) {
	b.WriteString(s.Name())
	b.WriteByte('{')
	first := true
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		if k == "__name__" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(b, `%s="%s"`, k, labelEscaper.Replace(s.Labels[k]))
	}
	fmt.Fprintf(b, "} %s %d\n", strconv.FormatFloat(s.Value, 'f', -1, 64), s.Time.UnixMilli())
}
